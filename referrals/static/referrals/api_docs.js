// Starts Swagger UI on the referral API's schema (the address is on the page, not in code).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    deepLinking: false, // its links inside the operation buttons are nested controls (axe)
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    // Nothing fetched from elsewhere: no validator badge, no external links resolved.
    validatorUrl: null,
  });
})();
