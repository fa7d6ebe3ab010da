// LTI Dynamic Registration: tell the platform that opened this page (iframe or window) that
// registration is over, so it closes the page and shows its side of the registration.
(function () {
  "use strict";
  var page = document.getElementById("lti-close");
  if (!page) { return; }

  function close() {
    var message = { subject: "org.imsglobal.lti.close" };
    // "*": the page does not know the platform's origin; the message carries nothing secret.
    if (window.parent && window.parent !== window) { window.parent.postMessage(message, "*"); }
    if (window.opener) { window.opener.postMessage(message, "*"); }
  }

  if (page.dataset.when === "now") { close(); return; }
  var button = document.getElementById("lti-close-button");
  button.hidden = false;
  button.addEventListener("click", close);
}());
