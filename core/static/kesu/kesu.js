/* Kesu's few behaviours; served by the app itself (no CDN). */
(function () {
  "use strict";
  // Choosing a business line or a category reloads the intake form with that category's fields.
  document.querySelectorAll(".kesu-autosubmit").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // Pickers: customer names and products of the chosen business line.
  var customer = document.getElementById("customer__name");
  if (customer) { customer.setAttribute("list", "kesu-customers"); customer.setAttribute("autocomplete", "off"); }
  var product = document.getElementById("product");
  if (product) { product.setAttribute("list", "kesu-products"); product.setAttribute("autocomplete", "off"); }
})();
