// The printable approval form: its Print button (shown on screen only).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("kesu-print-button");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
});
