// The embedded platform posts the id_token to the tool at once (a button remains without JS).
document.getElementById("form-post").submit();
