/* Live status: while something on the page is queued or running, ask the server every few seconds and update
   it in place (analysis verdicts, report links, the dashboard's list of analyses in progress). The page works
   without it; the text it replaces tells the reader to reload. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.liveUrl;
  if (!url || !window.fetch) return;
  var gettext = window.gettext || function (text) { return text; };
  var format = function (text, values) {
    return window.interpolate ? window.interpolate(text, values, true)
      : text.replace(/%\((\w+)\)s/g, function (match, name) { return values[name]; });
  };

  // From here on the page updates itself: the hints telling a reader without scripts to reload are not needed.
  document.querySelectorAll("[data-live-hint]").forEach(function (hint) { hint.hidden = true; });

  var BUSY_MS = 2000;
  var IDLE_MS = 8000;
  var progressList = document.getElementById("in-progress");
  var lastProgress = null;

  function idsOf(selector, key) {
    var seen = {};
    document.querySelectorAll(selector).forEach(function (node) { seen[node.dataset[key]] = true; });
    return Object.keys(seen);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function reloadLink(text) {
    return el("a", { href: window.location.pathname }, text);
  }

  function updateItem(node, info) {
    if (info.status === "queued" || info.status === "running") {
      if (node.dataset.liveStatus !== info.status && !node.hasAttribute("data-analysis-status")) {
        node.textContent = info.status_label;
      }
      node.dataset.liveStatus = info.status;
      return;
    }
    node.removeAttribute("data-live-status");
    // The upload list (static/js/upload.js) marks the file's row done.
    document.dispatchEvent(new CustomEvent("evidence:analysed", { detail: { id: node.dataset.liveItem, info: info } }));
    if (node.hasAttribute("data-analysis-status")) {
      // The evidence page: the findings need the whole page, so offer to show them rather than reload unasked.
      node.textContent = info.verdict
        ? format(gettext("Analysis finished: %(verdict)s. "), { verdict: info.verdict_label })
        : format(gettext("Analysis %(status)s. "), { status: info.status_label.toLowerCase() });
      node.className = info.verdict ? "verdict-banner verdict-" + info.verdict : "error";
      node.appendChild(reloadLink(info.verdict ? gettext("Show the findings") : gettext("Reload to see the error")));
      return;
    }
    node.textContent = "";
    if (info.verdict) {
      node.className = "";
      node.appendChild(el("span", { "class": "verdict verdict-" + info.verdict }, info.verdict_label));
      (info.badges || []).forEach(function (badge) {
        node.appendChild(document.createTextNode(" "));
        node.appendChild(el("span", { "class": "badge badge-" + badge.tone, "data-aspect": badge.aspect }, badge.text));
      });
    } else {
      node.textContent = info.status_label;
    }
  }

  function updateReport(node, info) {
    if (info.status === "queued" || info.status === "running") return;
    node.removeAttribute("data-live-report");
    node.dataset.reportStatus = info.status;
    node.textContent = "";
    if (info.download_url) {
      node.appendChild(el("a", { href: info.download_url }, gettext("Report ready: download the signed PDF")));
    } else {
      node.appendChild(el("span", { "class": "error", role: "alert" },
        format(gettext("The report failed: %(reason)s. Try generating it again; if it fails again, tell an administrator."),
          { reason: info.error || gettext("no reason given") })));
    }
  }

  function updateProgress(entries) {
    var signature = JSON.stringify(entries.map(function (e) { return [e.id, e.status]; }));
    if (signature === lastProgress) return;
    lastProgress = signature;
    progressList.textContent = "";
    if (!entries.length) {
      progressList.appendChild(el("li", { "class": "muted" }, gettext("No analysis is queued or running.")));
      return;
    }
    entries.forEach(function (entry) {
      var li = el("li");
      li.appendChild(el("a", { href: entry.url }, entry.filename.length > 40 ? entry.filename.slice(0, 39) + "…" : entry.filename));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", { "class": "muted small" }, entry["case"] + " · " + entry.status_label.toLowerCase()));
      progressList.appendChild(li);
    });
  }

  function tick() {
    var items = idsOf("[data-live-item][data-live-status]", "liveItem");
    var reports = idsOf("[data-live-report]", "liveReport");
    var busy = items.length || reports.length || (progressList && progressList.querySelector("a"));
    if ((!busy && !progressList) || document.hidden) {
      window.setTimeout(tick, busy ? BUSY_MS : IDLE_MS);
      return;
    }
    var query = "?items=" + encodeURIComponent(items.join(",")) + "&reports=" + encodeURIComponent(reports.join(","));
    fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        document.querySelectorAll("[data-live-item][data-live-status]").forEach(function (node) {
          var info = data.items[node.dataset.liveItem];
          if (info) updateItem(node, info);
        });
        document.querySelectorAll("[data-live-report]").forEach(function (node) {
          var info = data.reports[node.dataset.liveReport];
          if (info) updateReport(node, info);
        });
        if (progressList) updateProgress(data.in_progress);
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ })
      .then(function () { window.setTimeout(tick, busy ? BUSY_MS : IDLE_MS); });
  }

  window.setTimeout(tick, BUSY_MS);
})();
