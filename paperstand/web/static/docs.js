// Swagger UI over the app's own schema; kept out of the page so the CSP needs no inline code.
"use strict";
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
