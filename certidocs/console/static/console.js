// Drag and drop onto the upload zones: the dropped files go into the form's file input and
// the form is sent, as if chosen with the button. Everything works without this script too.
document.querySelectorAll("form.depot").forEach(function (form) {
  var zone = form.querySelector(".zone");
  var input = form.querySelector("input[type=file]");
  if (!zone || !input) { return; }
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("survol"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("survol"); });
  });
  zone.addEventListener("drop", function (e) {
    if (!e.dataTransfer || !e.dataTransfer.files.length) { return; }
    input.files = e.dataTransfer.files;
    form.submit();
  });
});
