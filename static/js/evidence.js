/* Evidence page helpers: copy buttons for the hashes (announced to screen readers), a filter over the metadata
   tables, and the reason shown in words when no preview could be made. */
(function () {
  "use strict";
  var announcer = document.getElementById("copy-status");

  function announce(text) {
    // Cleared first so that copying the same hash twice is announced twice.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain-HTTP deployments have no clipboard API; a selected, off-screen textarea still copies.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (ignored) { ok = false; }
      area.remove();
      if (ok) { resolve(); } else { reject(); }
    });
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var value = document.getElementById(button.dataset.copy).textContent.trim();
      var label = button.dataset.copyLabel;
      copyText(value).then(function () {
        button.textContent = "Copied";
        announce(label + " copied");
        window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
      }, function () {
        announce("Could not copy the " + label + "; select the value and copy it by hand.");
      });
    });
  });

  var filter = document.querySelector("[data-metadata-filter]");
  if (filter) {
    var field = filter.querySelector("input");
    var count = document.getElementById("metadata-filter-count");
    var none = document.querySelector("[data-metadata-none]");
    var groups = document.querySelectorAll("details.metadata-group");
    filter.hidden = false;
    field.addEventListener("input", function () {
      var query = field.value.trim().toLowerCase();
      var total = 0;
      groups.forEach(function (group) {
        var matches = 0;
        group.querySelectorAll("tbody tr").forEach(function (row) {
          var hit = !query || row.textContent.toLowerCase().indexOf(query) !== -1;
          row.hidden = !hit;
          if (hit) matches += 1;
        });
        total += matches;
        group.hidden = query && matches === 0;
        if (query && matches) {
          if (!group.open) { group.open = true; group.dataset.openedByFilter = "1"; }
        } else if (group.dataset.openedByFilter) {
          group.open = false;
          delete group.dataset.openedByFilter;
        }
      });
      none.hidden = !query || total > 0;
      count.textContent = query ? total + " tag" + (total === 1 ? "" : "s") + " match" + (total === 1 ? "es" : "") : "";
    });
  }

  var preview = document.querySelector("img[data-preview]");
  if (preview) {
    var explain = function () {
      fetch(preview.src, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? "" : response.text(); })
        .catch(function () { return ""; })
        .then(function (reason) {
          var note = document.createElement("p");
          note.className = "warning";
          note.textContent = "No preview: " + (reason || "it could not be loaded. Reload the page to try again.");
          preview.closest("figure").replaceWith(note);
        });
    };
    if (preview.complete && preview.naturalWidth === 0) explain();
    preview.addEventListener("error", explain);
  }
})();
