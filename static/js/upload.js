/* Upload of several files by drag and drop or by choosing them, one request per file to the API. Each file is a row
   of the list with its state (queued, uploading, analysing, done, refused), a progress bar while it is sent, and
   its own message. Leaving the page mid-batch asks first; if the reader leaves anyway, the files that were not
   sent are named when this case's page is next opened in the tab. Without JavaScript the form posts all files at
   once and still works. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !("upload" in new XMLHttpRequest())) return;

  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var format = function (text, values) {
    return window.interpolate ? window.interpolate(text, values, true)
      : text.replace(/%\((\w+)\)s/g, function (match, name) { return values[name]; });
  };
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-dropzone]");
  var list = form.querySelector("[data-upload-list]");
  var button = form.querySelector("button[type=submit]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var maxBytes = Number(form.dataset.maxBytes);
  var evidenceUrl = form.dataset.evidenceUrl;
  var table = document.querySelector("#evidence-table tbody");
  var verdictLabels = JSON.parse(document.getElementById("verdict-labels").textContent);
  var unsentKey = "unsent-uploads:" + form.dataset.apiUrl;
  var STATE_LABELS = {
    queued: gettext("Queued"), uploading: gettext("Uploading"), analysing: gettext("Analysing"), done: gettext("Done"), refused: gettext("Refused")
  };
  var dropped = [];
  var batch = null;  // {rows: [{file, li, state}], index} while a batch is being sent
  var byItem = {};  // evidence id -> row, to mark rows done when the live status reports the verdict

  form.querySelector("[data-drop-hint]").hidden = false;
  zone.classList.add("enhanced");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function sizeText(bytes) {
    var units = [gettext("bytes"), gettext("KB"), gettext("MB"), gettext("GB")], n = bytes, i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }

  function showDropped() {
    list.hidden = dropped.length === 0 && !list.children.length;
    list.querySelectorAll("li[data-waiting]").forEach(function (li) { li.remove(); });
    dropped.forEach(function (file) {
      var li = el("li", { "data-waiting": "" }, format(gettext("%(name)s (%(size)s), ready to upload"), { name: file.name, size: sizeText(file.size) }));
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

  /* One row of the list: the file's name and size, its state, a progress bar and a message. */
  function makeRow(file) {
    var li = el("li", { "data-state": "queued" });
    var row = { file: file, li: li, state: "queued" };
    li.appendChild(el("span", { "class": "name" }, file.name));
    row.badge = el("span", { "class": "state" });
    li.appendChild(row.badge);
    row.progress = el("progress", { max: "100", value: "0", "aria-label": format(gettext("Upload of %(name)s"), { name: file.name }) });
    row.progress.hidden = true;
    li.appendChild(row.progress);
    row.message = el("span", { "class": "small" });
    li.appendChild(row.message);
    setState(row, "queued", format(gettext("%(size)s; waits for the files before it."), { size: sizeText(file.size) }));
    return row;
  }

  function setState(row, state, message) {
    row.state = state;
    row.li.dataset.state = state;
    row.li.className = state === "refused" ? "failed" : (state === "analysing" || state === "done" ? "received" : "");
    row.badge.className = "state state-" + state;
    row.badge.textContent = STATE_LABELS[state];
    row.progress.hidden = state !== "uploading";
    if (message !== undefined) row.message.textContent = message;
  }

  function duplicateText(item) {
    var earlier = item.duplicate_of_item;
    if (earlier) {
      return format(gettext("Identical bytes were already received as “%(filename)s” in case %(reference)s (%(title)s) on %(date)s."), {
        filename: earlier.original_filename, reference: earlier.case_reference, title: earlier.case_title, date: earlier.received_at.slice(0, 10)
      });
    }
    return gettext("Identical bytes were already received in a case of the organisation that you cannot open.");
  }

  function addRow(item) {
    var empty = table.querySelector("[data-empty-row]");
    if (empty) empty.remove();
    var sha256 = (item.digests.filter(function (d) { return d.algorithm === "sha256"; })[0] || {}).value || "";
    var row = el("tr");
    row.appendChild(el("td", { "class": "mono small" }, String(item["case"]).slice(0, 8) + "…"));
    var name = el("td");
    name.appendChild(el("a", { href: evidenceUrl.replace("00000000-0000-0000-0000-000000000000", item.id) }, item.original_filename));
    if (item.duplicate_of) { name.appendChild(document.createTextNode(" ")); name.appendChild(el("span", { "class": "tag", title: duplicateText(item) }, gettext("duplicate"))); }
    if (item.type_mismatches.length) { name.appendChild(document.createTextNode(" ")); name.appendChild(el("span", { "class": "tag warn", title: item.type_mismatches.join(" ") }, gettext("type mismatch"))); }
    row.appendChild(name);
    row.appendChild(el("td", {}, item.detected_mime_type));
    row.appendChild(el("td", { "class": "mono small", title: sha256 }, sha256.slice(0, 16) + "…"));
    var verdict = el("td");
    if (item.verdict) {
      verdict.appendChild(el("span", { "class": "verdict verdict-" + item.verdict }, verdictLabels[item.verdict] || item.verdict));
    } else {
      verdict.appendChild(el("span", { "class": "muted", "data-live-item": item.id, "data-live-status": item.analysis_status }, item.analysis_status === "running" ? gettext("Running") : gettext("Queued")));
    }
    row.appendChild(verdict);
    row.appendChild(el("td", {}, item.received_at.slice(0, 16).replace("T", " ")));
    row.appendChild(el("td", {}, "—"));
    table.appendChild(row);
  }

  function errorText(xhr) {
    var body = null;
    try { body = JSON.parse(xhr.responseText); } catch (ignored) { /* not JSON: a proxy or server page */ }
    if (xhr.status === 413) return gettext("The file is larger than the server accepts. Ask an administrator about larger files.");
    if (xhr.status === 429) return gettext("Too many uploads in a short time. Wait a few minutes, then upload this file again.");
    if (xhr.status === 403) return gettext("You may not upload to this case (or your session ended). Log in again, or ask a supervisor to assign you.");
    if (body && body.errors) {
      return gettext("Check the collection details:") + " " + Object.keys(body.errors).map(function (field) {
        return field.replace(/_/g, " ") + ": " + [].concat(body.errors[field]).join(" ");
      }).join("; ");
    }
    if (body && body.detail) return body.detail;
    return format(gettext("The server could not receive this file (HTTP %(status)s). Try again; if it fails again, tell an administrator."), { status: xhr.status });
  }

  function uploadOne(row, done) {
    var file = row.file;
    if (file.size > maxBytes) {
      setState(row, "refused", format(gettext("Not sent: %(size)s is over the %(limit)s limit for one file. Ask an administrator about larger files."), { size: sizeText(file.size), limit: sizeText(maxBytes) }));
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
        row.progress.value = Math.round((event.loaded / event.total) * 100);
        row.message.textContent = row.progress.value + "%";
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 201) {
        var item = JSON.parse(xhr.responseText).items[0];
        var message = gettext("Received.") + (item.duplicate_of ? " " + duplicateText(item) : "");
        if (item.verdict) {
          setState(row, "done", message + " " + format(gettext("Verdict: %(verdict)s."), { verdict: verdictLabels[item.verdict] || item.verdict }));
        } else {
          setState(row, "analysing", message + " " + gettext("The verdict appears here and in the table when the analysis finishes."));
          byItem[item.id] = row;
        }
        addRow(item);
        return done(true);
      }
      setState(row, "refused", gettext("Not received:") + " " + errorText(xhr));
      done(false);
    });
    xhr.addEventListener("error", function () {
      setState(row, "refused", gettext("Not received: the connection failed. Check the network and upload this file again."));
      done(false);
    });
    setState(row, "uploading", "0%");
    xhr.send(data);
  }

  /* The live status (static/js/live.js) says when an analysis has finished. */
  document.addEventListener("evidence:analysed", function (event) {
    var row = byItem[event.detail.id];
    if (!row) return;
    delete byItem[event.detail.id];
    var info = event.detail.info;
    setState(row, "done", info.verdict
      ? format(gettext("Analysed. Verdict: %(verdict)s."), { verdict: info.verdict_label })
      : format(gettext("Analysis %(status)s."), { status: info.status_label.toLowerCase() }));
  });

  function unsentRows() {
    if (!batch) return [];
    return batch.rows.filter(function (row) { return row.state === "queued" || row.state === "uploading"; });
  }

  window.addEventListener("beforeunload", function (event) {
    var unsent = unsentRows();
    if (!unsent.length) return;
    // Shown if the reader decides to stay; browsers put up their own question and ignore any text given here.
    var warning = list.querySelector("li.leaving") || el("li", { "class": "leaving warning", role: "alert" });
    warning.textContent = format(gettext("If you leave this page now, these files will not be sent: %(names)s."), {
      names: unsent.map(function (row) { return row.file.name; }).join(", ")
    });
    list.insertBefore(warning, list.firstChild);
    event.preventDefault();
    event.returnValue = "";
  });

  window.addEventListener("pagehide", function () {
    var unsent = unsentRows();
    if (!unsent.length || !window.sessionStorage) return;
    sessionStorage.setItem(unsentKey, JSON.stringify(unsent.map(function (row) {
      return { name: row.file.name, uploading: row.state === "uploading" };
    })));
  });

  (function reportUnsent() {
    var stored = window.sessionStorage && sessionStorage.getItem(unsentKey);
    if (!stored) return;
    sessionStorage.removeItem(unsentKey);
    var files = JSON.parse(stored);
    var notSent = files.filter(function (f) { return !f.uploading; }).map(function (f) { return f.name; });
    var cut = files.filter(function (f) { return f.uploading; }).map(function (f) { return f.name; });
    list.hidden = false;
    if (notSent.length) {
      list.appendChild(el("li", { "class": "failed unsent", role: "alert" }, format(
        gettext("The page was left before these files were sent; they were not received: %(names)s. Choose them again to upload them."),
        { names: notSent.join(", ") })));
    }
    if (cut.length) {
      list.appendChild(el("li", { "class": "failed unsent", role: "alert" }, format(
        gettext("The page was left while these files were being sent; check the evidence table, and upload again any that is missing: %(names)s."),
        { names: cut.join(", ") })));
    }
  })();

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var files = dropped.concat(Array.prototype.slice.call(input.files));
    if (!files.length) {
      list.hidden = false;
      list.textContent = "";
      list.appendChild(el("li", { "class": "failed" }, gettext("Choose files, or drop them on the box above, then press Upload.")));
      return;
    }
    dropped = [];
    list.hidden = false;
    list.textContent = "";
    batch = { rows: files.map(function (file) { var row = makeRow(file); list.appendChild(row.li); return row; }) };
    button.disabled = true;
    var received = 0, index = 0;
    (function next() {
      if (index === batch.rows.length) {
        button.disabled = false;
        input.value = "";
        input.required = true;
        var summary = el("li", { "class": "summary", role: "status" }, format(
          ngettext("%(received)s of %(total)s file received.", "%(received)s of %(total)s files received.", files.length),
          { received: received, total: files.length }) + (received ? " " + gettext("Verdicts appear in the table when each analysis finishes.") : ""));
        list.appendChild(summary);
        return;
      }
      var row = batch.rows[index];
      index += 1;
      uploadOne(row, function (ok) { if (ok) received += 1; next(); });
    })();
  });
})();
