// Starts Swagger UI on /docs. A file, not an inline script, so the page's Content-Security-Policy
// needs no 'unsafe-inline'; the OpenAPI URL comes from the page (data-openapi-url).
"use strict";
(() => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // the spec is not sent to swagger.io's online validator: nothing leaves the intranet
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
