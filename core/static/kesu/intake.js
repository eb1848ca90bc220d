/* The registration form: category fields, customer search and creation, pickers, dropped
   evidence with thumbnails and the live check. Served by the app (no CDN, no inline script). */
(function () {
  "use strict";
  var form = document.getElementById("kesu-case-form");
  if (!form) { return; }
  var line = form.dataset.line;
  var csrf = form.querySelector("input[name=csrf_token]");
  var timers = {};

  function debounce(key, wait, fn) {
    clearTimeout(timers[key]);
    timers[key] = setTimeout(fn, wait);
  }
  function byId(id) { return document.getElementById(id); }
  function query(url, params) {
    var search = new URLSearchParams(params);
    return fetch(url + "?" + search.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { result: [] }; });
  }
  function post(url, body) {
    var headers = { "Content-Type": "application/json" };
    if (csrf) { headers["X-CSRFToken"] = csrf.value; }
    return fetch(url, {
      method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (data) { return { status: r.status, data: data }; }); });
  }
  function text(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (className) { el.className = className; }
    return el;
  }

  // -- category: show the chosen category's fieldset ----------------------------------------
  var chooser = byId("choose-category");
  var holder = byId("kesu-category-fields");
  var hiddenCategory = form.querySelector("input[name=category]");
  var shown = {};  // fieldsets shown before, kept (with what was typed) while another is chosen
  function showCategory(key) {
    var current = holder.querySelector("fieldset.kesu-plugin-fields");
    if (current) {
      shown[current.dataset.category] = current;
      holder.removeChild(current);
    }
    var template = form.querySelector("template.kesu-category-template[data-category='" + key + "']");
    if (shown[key]) {
      holder.appendChild(shown[key]);
    } else if (template) {
      holder.appendChild(document.importNode(template.content, true));
      template.remove();
    }
    hiddenCategory.value = key || "";
    var url = new URL(window.location.href);
    url.searchParams.set("business_line", line);
    url.searchParams.set("category", key || "");
    window.history.replaceState(null, "", url.toString());
    scheduleCheck();
  }
  if (chooser && holder) {
    chooser.addEventListener("change", function () { showCategory(chooser.value); });
  }

  // -- customer: search as you type, pick one, or create a new one ----------------------------
  var name = byId("customer__name");
  var customerId = form.querySelector("input[name=customer_id]");
  var suggest = byId("kesu-customer-suggest");
  var chosen = byId("kesu-customer-chosen");
  var details = byId("kesu-customer-details");
  var newButton = byId("kesu-customer-new");
  var saveButton = byId("kesu-customer-save");
  var clearButton = byId("kesu-customer-clear");
  var customerError = byId("kesu-customer-error");

  function describe(c) {
    return [c.name, c.contact, c.phone].filter(function (v) { return v; }).join(" · ");
  }
  function pick(c) {
    customerId.value = String(c.id);
    name.value = c.name;
    chosen.textContent = describe(c);
    chosen.hidden = false;
    suggest.hidden = true;
    details.hidden = true;
    saveButton.hidden = true;
    newButton.hidden = true;
    clearButton.hidden = false;
    loadBatches();
    scheduleCheck();
  }
  function unpick() {
    customerId.value = "";
    chosen.hidden = true;
    clearButton.hidden = true;
    newButton.hidden = false;
    details.hidden = false;
  }
  function startNew() {
    unpick();
    suggest.hidden = true;
    saveButton.hidden = false;
    details.hidden = false;
    name.focus();
  }
  if (name && customerId) {
    name.removeAttribute("list");
    name.setAttribute("autocomplete", "off");
    if (customerId.value) {  // the form shown again after an error: the customer stays picked
      details.hidden = true;
      newButton.hidden = true;
      clearButton.hidden = false;
      chosen.textContent = name.value;
      chosen.hidden = false;
      loadBatches();
    }
    name.addEventListener("input", function () {
      if (customerId.value) { unpick(); }
      debounce("customers", 250, function () {
        var q = name.value.trim();
        if (!q) { suggest.hidden = true; return; }
        query(form.dataset.customersUrl, { business_line: line, q: q }).then(function (data) {
          suggest.textContent = "";
          (data.result || []).forEach(function (c) {
            var item = text("li", describe(c), "list-group-item kesu-suggestion");
            item.dataset.id = c.id;
            item.tabIndex = 0;
            item.addEventListener("click", function () { pick(c); });
            suggest.appendChild(item);
          });
          var create = text("li", newButton.textContent + ": " + q, "list-group-item kesu-suggestion-new");
          create.tabIndex = 0;
          create.addEventListener("click", startNew);
          suggest.appendChild(create);
          suggest.hidden = false;
        });
      });
    });
    newButton.addEventListener("click", startNew);
    clearButton.addEventListener("click", function () { unpick(); name.value = ""; name.focus(); });
    saveButton.addEventListener("click", function () {
      var body = { business_line: line };
      form.querySelectorAll("[name^='customer__']").forEach(function (input) {
        if (input.value.trim()) { body[input.name.slice("customer__".length)] = input.value.trim(); }
      });
      customerError.textContent = "";
      post(form.dataset.customersUrl, body).then(function (resp) {
        if (resp.status === 201) { pick(resp.data.result); return; }
        var errors = resp.data.errors || {};
        var messages = Object.keys(errors).map(function (k) { return errors[k].join(" "); });
        customerError.textContent = messages.length ? messages.join(" ") : resp.data.message;
      });
    });
  }

  // -- product and batch pickers ----------------------------------------------------------------
  var product = byId("product");
  var products = byId("kesu-products");
  if (product && products) {
    product.setAttribute("list", "kesu-products");
    product.setAttribute("autocomplete", "off");
    function loadProducts() {
      query(form.dataset.productsUrl, { business_line: line, q: product.value.trim() }).then(function (data) {
        products.textContent = "";
        (data.result || []).forEach(function (p) {
          var option = document.createElement("option");
          option.value = p.code;
          option.label = p.name;
          option.textContent = p.name;
          products.appendChild(option);
        });
      });
    }
    product.addEventListener("input", function () { debounce("products", 250, loadProducts); });
    loadProducts();
  }
  var batch = byId("batch_no");
  var batches = byId("kesu-batches");
  function loadBatches() {
    if (!batch || !batches || !customerId || !customerId.value) { return; }
    batch.setAttribute("list", "kesu-batches");
    query(form.dataset.batchesUrl, { business_line: line, customer_id: customerId.value }).then(function (data) {
      batches.textContent = "";
      (data.result || []).forEach(function (b) {
        var option = document.createElement("option");
        option.value = b;
        batches.appendChild(option);
      });
    });
  }

  // -- evidence: drop files, see thumbnails, choose each file's kind ---------------------------
  var drop = byId("kesu-dropzone");
  var input = byId("kesu-evidence");
  var thumbs = byId("kesu-thumbs");
  var kindTemplate = byId("kesu-kind-template");
  var files = [];
  function kindOf(file) {
    var type = (file.type || "").toLowerCase();
    return type.indexOf("image/") === 0 ? "photo" : type.indexOf("video/") === 0 ? "video" : "document";
  }
  function renderFiles() {
    var transfer = new DataTransfer();
    files.forEach(function (entry) { transfer.items.add(entry.file); });
    input.files = transfer.files;
    thumbs.textContent = "";
    files.forEach(function (entry, index) {
      var item = document.createElement("li");
      item.className = "kesu-thumb";
      if (entry.preview) {
        var img = document.createElement("img");
        img.src = entry.preview;
        img.alt = entry.file.name;
        img.className = "kesu-thumb-image";
        item.appendChild(img);
      }
      item.appendChild(text("span", entry.file.name, "kesu-thumb-name"));
      var kind = kindTemplate.cloneNode(true);
      kind.hidden = false;
      kind.removeAttribute("id");
      kind.name = "evidence_kind";
      kind.value = entry.kind;
      kind.addEventListener("change", function () { entry.kind = kind.value; scheduleCheck(); });
      item.appendChild(kind);
      var remove = text("button", "×", "btn btn-link kesu-thumb-remove");
      remove.type = "button";
      remove.addEventListener("click", function () { files.splice(index, 1); renderFiles(); scheduleCheck(); });
      item.appendChild(remove);
      thumbs.appendChild(item);
    });
  }
  function addFiles(list) {
    Array.prototype.forEach.call(list, function (file) {
      var entry = { file: file, kind: kindOf(file), preview: null };
      files.push(entry);
      if (entry.kind === "photo") {
        var reader = new FileReader();
        reader.onload = function () { entry.preview = reader.result; renderFiles(); };
        reader.readAsDataURL(file);
      }
    });
    renderFiles();
    scheduleCheck();
  }
  if (drop && input && thumbs) {
    ["dragenter", "dragover"].forEach(function (type) {
      drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.add("kesu-dropping"); });
    });
    drop.addEventListener("dragleave", function () { drop.classList.remove("kesu-dropping"); });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      drop.classList.remove("kesu-dropping");
      if (e.dataTransfer && e.dataTransfer.files.length) { addFiles(e.dataTransfer.files); }
    });
    input.addEventListener("change", function () {
      var picked = Array.prototype.slice.call(input.files).filter(function (f) {
        return !files.some(function (entry) { return entry.file === f; });
      });
      addFiles(picked);
    });
  }

  // -- the live check: acceptance issues and open cases of the same customer and batch --------
  var live = byId("kesu-live");
  var duplicates = byId("kesu-duplicates");
  var issues = byId("kesu-live-issues");
  function draft() {
    var body = { business_line: line, category: hiddenCategory.value, details: {}, evidence: [] };
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "hidden" || el.name === "evidence_kind") { return; }
      var value = el.type === "checkbox" ? el.checked : el.value;
      if (el.name.indexOf("details__") === 0) { body.details[el.name.slice(9)] = value; }
      else if (el.name.indexOf("customer__") !== 0 && el.name !== "submit_case") {
        if (value !== "") { body[el.name] = value; }
      }
    });
    ["quantity_purchased"].forEach(function (k) {
      if (body[k] !== undefined && /^\d+$/.test(body[k])) { body[k] = parseInt(body[k], 10); }
    });
    Object.keys(body.details).forEach(function (k) {
      var el = form.querySelector("[name='details__" + k + "']");
      if (el && el.type === "number" && el.step === "1" && /^\d+$/.test(body.details[k])) {
        body.details[k] = parseInt(body.details[k], 10);
      }
      if (body.details[k] === "") { delete body.details[k]; }
    });
    if (customerId && customerId.value) { body.customer_id = customerId.value; }
    else if (name && name.value.trim()) { body.customer_name = name.value.trim(); }
    body.evidence = files.map(function (entry) { return entry.kind; });
    return body;
  }
  function fill(box, items, render) {
    var list = box.querySelector("ul");
    list.textContent = "";
    items.forEach(function (item) { list.appendChild(render(item)); });
    box.hidden = items.length === 0;
  }
  function runCheck() {
    if (!hiddenCategory.value) { live.hidden = true; return; }
    post(form.dataset.checkUrl, draft()).then(function (resp) {
      if (resp.status !== 200) { return; }
      fill(issues, resp.data.issues || [], function (issue) {
        var li = text("li", issue.message, "kesu-live-issue");
        li.dataset.code = issue.code;
        return li;
      });
      fill(duplicates, resp.data.duplicates || [], function (c) {
        var li = document.createElement("li");
        li.className = "kesu-duplicate";
        var a = text("a", c.number, "");
        a.href = c.url;
        li.appendChild(a);
        li.appendChild(text("span", " " + c.status, ""));
        return li;
      });
      live.hidden = issues.hidden && duplicates.hidden;
    });
  }
  function scheduleCheck() { debounce("check", 400, runCheck); }
  form.addEventListener("input", scheduleCheck);
  form.addEventListener("change", scheduleCheck);
  scheduleCheck();
})();
