"""Users, passwords, tokens and the role guards every route declares."""
