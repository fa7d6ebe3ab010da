// The platform side of LTI Dynamic Registration: close the tool's page when it says so.
(function () {
  "use strict";
  var toolOrigin = document.getElementById("dev-platform-install").dataset.toolOrigin;
  window.addEventListener("message", function (event) {
    var message = event.data || {};
    if (event.origin !== toolOrigin || message.subject !== "org.imsglobal.lti.close") { return; }
    document.getElementById("install-frame").remove();
    document.getElementById("install-done").hidden = false;
  });
})();
