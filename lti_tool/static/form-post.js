// Post the page's form at once: the embedded platform's id_token to the tool, or the tool's
// deep-linking response to the platform (a button remains without JS).
document.getElementById("form-post").submit();
