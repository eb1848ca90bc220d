/* The case page: an evidence thumbnail opens its image larger in a <dialog> (without script,
   the link opens the image itself). No inline script: the CSP allows only this origin's files. */
(function () {
  "use strict";
  var dialog = document.getElementById("kesu-preview");
  if (!dialog || typeof dialog.showModal !== "function") { return; }
  var image = dialog.querySelector(".kesu-preview-image");
  var caption = dialog.querySelector(".kesu-preview-caption");
  document.querySelectorAll(".kesu-preview-link").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      image.src = link.href;
      image.alt = link.dataset.caption || "";
      caption.textContent = link.dataset.caption || "";
      dialog.showModal();
    });
  });
  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) { dialog.close(); }
  });
})();
