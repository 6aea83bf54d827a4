/* Evidence page helpers: a filter over the metadata tables, and the reason shown in words when no preview could
   be made. The copy buttons are static/js/copy.js's. */
(function () {
  "use strict";
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var format = function (text, values) {
    return window.interpolate ? window.interpolate(text, values, true)
      : text.replace(/%\((\w+)\)s/g, function (match, name) { return values[name]; });
  };
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
      count.textContent = query ? format(ngettext("%(count)s tag matches", "%(count)s tags match", total), { count: total }) : "";
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
          note.textContent = format(gettext("No preview: %(reason)s"), {
            reason: reason || gettext("it could not be loaded. Reload the page to try again.")
          });
          preview.closest("figure").replaceWith(note);
        });
    };
    if (preview.complete && preview.naturalWidth === 0) explain();
    preview.addEventListener("error", explain);
  }
})();
