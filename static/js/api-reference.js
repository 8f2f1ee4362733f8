// Swagger UI on the API's OpenAPI document; "Authorize" takes a personal token.
(function () {
  "use strict";
  const root = document.getElementById("reference");
  if (!root || !window.SwaggerUIBundle) return;
  window.SwaggerUIBundle({ url: root.dataset.spec, domNode: root, deepLinking: true });
})();
