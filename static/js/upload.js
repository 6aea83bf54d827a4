/* Upload of several files by drag and drop or by choosing them, one request per file to the API, each with its
   own progress bar and its own error. Without JavaScript the form posts all files at once and still works. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !("upload" in new XMLHttpRequest())) return;

  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-dropzone]");
  var list = form.querySelector("[data-upload-list]");
  var button = form.querySelector("button[type=submit]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var maxBytes = Number(form.dataset.maxBytes);
  var evidenceUrl = form.dataset.evidenceUrl;
  var table = document.querySelector("#evidence-table tbody");
  var dropped = [];
  var verdictLabels = JSON.parse(document.getElementById("verdict-labels").textContent);

  form.querySelector("[data-drop-hint]").hidden = false;
  zone.classList.add("enhanced");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function sizeText(bytes) {
    var units = ["bytes", "KB", "MB", "GB"], n = bytes, i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }

  function showDropped() {
    list.hidden = dropped.length === 0 && !list.children.length;
    list.querySelectorAll("li[data-waiting]").forEach(function (li) { li.remove(); });
    dropped.forEach(function (file) {
      var li = el("li", { "data-waiting": "" }, file.name + " (" + sizeText(file.size) + "), ready to upload");
      list.appendChild(li);
    });
    // The dropped files are the choice now; the browser's own "required" check only knows the input.
    input.required = dropped.length === 0;
  }

  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    Array.prototype.forEach.call(event.dataTransfer.files, function (file) { dropped.push(file); });
    showDropped();
  });

  function addRow(item) {
    var empty = table.querySelector("[data-empty-row]");
    if (empty) empty.remove();
    var sha256 = (item.digests.filter(function (d) { return d.algorithm === "sha256"; })[0] || {}).value || "";
    var row = el("tr");
    row.appendChild(el("td", { "class": "mono small" }, String(item["case"]).slice(0, 8) + "…"));
    var name = el("td");
    name.appendChild(el("a", { href: evidenceUrl.replace("00000000-0000-0000-0000-000000000000", item.id) }, item.original_filename));
    if (item.duplicate_of) { name.appendChild(document.createTextNode(" ")); name.appendChild(el("span", { "class": "tag" }, "duplicate")); }
    if (item.type_mismatches.length) { name.appendChild(document.createTextNode(" ")); name.appendChild(el("span", { "class": "tag warn", title: item.type_mismatches.join(" ") }, "type mismatch")); }
    row.appendChild(name);
    row.appendChild(el("td", {}, item.detected_mime_type));
    row.appendChild(el("td", { "class": "mono small", title: sha256 }, sha256.slice(0, 16) + "…"));
    var verdict = el("td");
    if (item.verdict) {
      verdict.appendChild(el("span", { "class": "verdict verdict-" + item.verdict }, verdictLabels[item.verdict] || item.verdict));
    } else {
      verdict.appendChild(el("span", { "class": "muted", "data-live-item": item.id, "data-live-status": item.analysis_status }, item.analysis_status === "running" ? "Running" : "Queued"));
    }
    row.appendChild(verdict);
    row.appendChild(el("td", {}, item.received_at.slice(0, 16).replace("T", " ")));
    row.appendChild(el("td", {}, "—"));
    table.appendChild(row);
  }

  function errorText(xhr) {
    var body = null;
    try { body = JSON.parse(xhr.responseText); } catch (ignored) { /* not JSON: a proxy or server page */ }
    if (xhr.status === 413) return "The file is larger than the server accepts. Ask an administrator about larger files.";
    if (xhr.status === 429) return "Too many uploads in a short time. Wait a few minutes, then upload this file again.";
    if (xhr.status === 403) return "You may not upload to this case (or your session ended). Log in again, or ask a supervisor to assign you.";
    if (body && body.errors) {
      return "Check the collection details: " + Object.keys(body.errors).map(function (field) {
        return field.replace(/_/g, " ") + ": " + [].concat(body.errors[field]).join(" ");
      }).join("; ");
    }
    if (body && body.detail) return body.detail;
    return "The server could not receive this file (HTTP " + xhr.status + "). Try again; if it fails again, tell an administrator.";
  }

  function uploadOne(file, li, done) {
    var progress = el("progress", { max: "100", value: "0", "aria-label": "Upload of " + file.name });
    var status = el("span", { "class": "small" }, "waiting");
    li.textContent = "";
    li.appendChild(el("span", { "class": "name" }, file.name));
    li.appendChild(progress);
    li.appendChild(status);
    if (file.size > maxBytes) {
      progress.remove();
      li.className = "failed";
      status.textContent = "Not sent: " + sizeText(file.size) + " is over the " + sizeText(maxBytes) + " limit for one file. Ask an administrator about larger files.";
      return done(false);
    }
    var data = new FormData();
    data.append("files", file, file.name);
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.name !== "files" && field.name !== "csrfmiddlewaretoken" && field.value) {
        data.append(field.name, field.value);
      }
    });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.apiUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        progress.value = Math.round((event.loaded / event.total) * 100);
        status.textContent = progress.value + "%";
      }
    });
    xhr.addEventListener("load", function () {
      progress.value = 100;
      if (xhr.status === 201) {
        var item = JSON.parse(xhr.responseText).items[0];
        li.className = "received";
        status.textContent = "Received" + (item.duplicate_of ? " (identical bytes were already received as item " + item.duplicate_of + ")" : "") + "; analysis queued.";
        addRow(item);
        return done(true);
      }
      li.className = "failed";
      status.textContent = "Not received: " + errorText(xhr);
      done(false);
    });
    xhr.addEventListener("error", function () {
      li.className = "failed";
      status.textContent = "Not received: the connection failed. Check the network and upload this file again.";
      done(false);
    });
    status.textContent = "uploading";
    xhr.send(data);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var files = dropped.concat(Array.prototype.slice.call(input.files));
    if (!files.length) {
      list.hidden = false;
      list.textContent = "";
      list.appendChild(el("li", { "class": "failed" }, "Choose files, or drop them on the box above, then press Upload."));
      return;
    }
    dropped = [];
    list.hidden = false;
    list.textContent = "";
    var rows = files.map(function (file) { var li = el("li"); list.appendChild(li); return li; });
    button.disabled = true;
    var received = 0, index = 0;
    (function next() {
      if (index === files.length) {
        button.disabled = false;
        input.value = "";
        input.required = true;
        var summary = el("li", { "class": "summary", role: "status" }, received + " of " + files.length + " file" + (files.length === 1 ? "" : "s") + " received." + (received ? " Verdicts appear in the table when each analysis finishes." : ""));
        list.appendChild(summary);
        return;
      }
      var file = files[index], li = rows[index];
      index += 1;
      uploadOne(file, li, function (ok) { if (ok) received += 1; next(); });
    })();
  });
})();
