// The API client every page uses: bearer token per role, problem+json errors as ApiError.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || "http_" + status;
    this.title = problem.title || "Request failed";
    this.detail = problem.detail || "";
    this.problem = problem;
  }
}

// A network failure is shown like any other problem, so the page never just stops.
function offlineProblem(err) {
  return new ApiError(0, {
    title: "Cannot reach the server",
    detail: `Check your connection and try again (${err.message}).`,
    code: "network_error",
  });
}

export class Api {
  constructor(role) {
    this.role = role;
    this.storageKey = `o2o.token.${role}`;
    this.onUnauthorized = () => {};
  }

  get token() {
    return localStorage.getItem(this.storageKey);
  }

  set token(value) {
    if (value) localStorage.setItem(this.storageKey, value);
    else localStorage.removeItem(this.storageKey);
  }

  async request(method, path, { body, headers = {} } = {}) {
    const init = { method, headers: { Accept: "application/json, application/problem+json", ...headers } };
    if (this.token) init.headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw offlineProblem(err);
    }
    if (response.status === 204) return null;
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : { title: await response.text() };
    if (!response.ok) {
      const error = new ApiError(response.status, data);
      if (response.status === 401) {
        this.token = null;
        this.onUnauthorized(error);
      }
      throw error;
    }
    return data;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body, headers) {
    return this.request("POST", path, { body, headers });
  }

  async login(email, password) {
    const answer = await this.request("POST", "/auth/token", { body: { email, password } });
    if (answer.role !== this.role && !(this.role === "dispatcher" && answer.role === "admin")) {
      throw new ApiError(403, {
        title: "Wrong kind of account",
        detail: `This page is for ${this.role} accounts; you signed in as ${answer.role}.`,
        code: "wrong_role",
      });
    }
    this.token = answer.access_token;
    return answer;
  }

  logout() {
    this.token = null;
  }
}
