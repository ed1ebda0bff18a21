"""Edge for couriers: shift, pings (WebSocket and batch POST), route, stop events, offers."""
