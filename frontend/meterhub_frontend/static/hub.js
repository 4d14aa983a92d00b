// MeterHub pages: small progressive enhancements (every page works without them).
(function () {
  "use strict";

  // A form with data-confirm asks before it is sent; the server asks again without confirmed=1.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (form.dataset.confirmed === "1") return;
    // "{amount}" in the question is the amount typed in the form, as money: ¥50.00, -¥5.00
    var message = form.dataset.confirm;
    var typed = form.querySelector('input[name="amount"]');
    if (typed && message.indexOf("{amount}") >= 0) {
      var value = typed.value.trim();
      var sign = /^[-+]/.test(value) ? value.charAt(0) : "";
      var digits = sign ? value.slice(1) : value;
      if (/^[0-9]+$/.test(digits)) digits += ".00";
      else if (/^[0-9]+[.][0-9]$/.test(digits)) digits += "0";
      message = message.replace("{amount}", (sign === "-" ? "-" : "") + "¥" + digits);
    }
    if (!window.confirm(message)) {
      event.preventDefault();
      return;
    }
    var flag = form.querySelector('input[name="confirmed"]');
    if (!flag) {
      flag = document.createElement("input");
      flag.type = "hidden";
      flag.name = "confirmed";
      form.appendChild(flag);
    }
    flag.value = "1";
    form.dataset.confirmed = "1";
  }, true);

  // A submit button is disabled once pressed: a double click sends one request (the form's
  // idempotency key makes a second one count once anyway).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
    if (form.hasAttribute("hx-post")) return;
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // A live part (data-live-meter) follows the hub's event stream: an event about its meter (a
  // reading, a command's progress) has htmx fetch it again at once (several within a quarter
  // second: once). Its slow poll stays for when the stream is down.
  document.addEventListener("DOMContentLoaded", function () {
    var first = document.querySelector("[data-live-meter]");
    if (!first || !window.EventSource || !window.htmx) return;
    var types = first.dataset.liveEvents;
    var source = new EventSource("/api/events?types=" + encodeURIComponent(types) +
                                 "&meter_id=" + encodeURIComponent(first.dataset.liveMeter));
    var pending = null;
    function refresh() {
      if (pending !== null) return;
      pending = window.setTimeout(function () {
        pending = null;
        var live = document.getElementById(first.id);  // the part htmx put in its place
        if (live) window.htmx.trigger(live, "mh-live");
      }, 250);
    }
    types.split(",").forEach(function (type) { source.addEventListener(type, refresh); });
    window.addEventListener("pagehide", function () { source.close(); });
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element && target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });

  // Two amount fields must agree before a recharge or refund is sent.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!(field instanceof HTMLInputElement) || !field.dataset.matches) return;
    var other = document.getElementById(field.dataset.matches);
    field.setCustomValidity(other && other.value !== field.value ? field.dataset.mismatch || "≠" : "");
  });
})();
