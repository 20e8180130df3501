// Starts Swagger UI on /api/docs with Parley's OpenAPI document (an external file: no inline scripts).
globalThis.ui = globalThis.SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  withCredentials: true,
});
