/* Copy buttons for hashes and other long values, announced to screen readers. A button names what it copies
   with data-copy (the id of the element holding the value) or data-copy-text (the value itself), and what the
   value is with data-copy-label. Buttons stay hidden without JavaScript, where the value can be selected. */
(function () {
  "use strict";
  var gettext = window.gettext || function (text) { return text; };
  var format = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) { return values[name]; });
  };
  var announcer = document.getElementById("copy-status");
  if (!announcer) {
    announcer = document.createElement("p");
    announcer.id = "copy-status";
    announcer.className = "sr-only";
    announcer.setAttribute("aria-live", "polite");
    document.body.appendChild(announcer);
  }

  function announce(text) {
    // Cleared first so that copying the same value twice is announced twice.
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

  document.querySelectorAll("button[data-copy], button[data-copy-text]").forEach(function (button) {
    var idle = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var value = button.hasAttribute("data-copy-text")
        ? button.dataset.copyText
        : document.getElementById(button.dataset.copy).textContent.trim();
      var label = button.dataset.copyLabel;
      copyText(value).then(function () {
        button.textContent = gettext("Copied");
        announce(format(gettext("%(label)s copied"), { label: label }, true));
        window.setTimeout(function () { button.textContent = idle; }, 2000);
      }, function () {
        announce(format(gettext("Could not copy the %(label)s; select the value and copy it by hand."), { label: label }, true));
      });
    });
  });
})();
