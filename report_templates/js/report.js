/* storydiff review view: filters, outlet picker, keyboard navigation, context view.
   Progressive enhancement: without JavaScript everything is visible. No network access. */
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) return;
  form.hidden = false;
  var events = Array.prototype.slice.call(document.querySelectorAll("article.event"));
  var params = new URLSearchParams(location.hash.indexOf("?") >= 0 ? location.hash.split("?")[1] : location.search.slice(1));

  function checked(name) {
    return Array.prototype.slice.call(form.querySelectorAll('input[name="' + name + '"]:checked')).map(function (i) { return i.value; });
  }
  function setChecked(name, values) {
    form.querySelectorAll('input[name="' + name + '"]').forEach(function (i) { i.checked = values.indexOf(i.value) >= 0; });
  }
  // Restore the reader's outlet choice from the URL (?outlets=a,b).
  if (params.get("outlets")) setChecked("outlet", params.get("outlets").split(","));
  if (params.get("types")) setChecked("type", params.get("types").split(","));
  if (params.get("only") === "1") form.querySelector('input[name="only-diff"]').checked = true;
  if (params.get("q")) form.querySelector('input[name="q"]').value = params.get("q");
  // With more than four outlets, show the first four as columns by default.
  var outletBoxes = form.querySelectorAll('input[name="outlet"]');
  if (!params.get("outlets") && outletBoxes.length > 4) {
    outletBoxes.forEach(function (b, i) { b.checked = i < 4; });
  }

  function apply() {
    var types = checked("type"), outlets = checked("outlet");
    var only = form.querySelector('input[name="only-diff"]').checked;
    var q = form.querySelector('input[name="q"]').value.trim().toLowerCase();
    var shown = 0;
    events.forEach(function (ev) {
      var evTypes = (ev.dataset.types || "").split(" ").filter(Boolean);
      var evOutlets = (ev.dataset.outlets || "").split(" ");
      var ok = true;
      if (only && evTypes.length === 0) ok = false;
      if (ok && evTypes.length && !evTypes.some(function (t) { return types.indexOf(t) >= 0; }) && types.length < form.querySelectorAll('input[name="type"]').length) ok = false;
      if (ok && !evOutlets.some(function (o) { return outlets.indexOf(o) >= 0; })) ok = false;
      if (ok && q && ev.textContent.toLowerCase().indexOf(q) < 0) ok = false;
      ev.classList.toggle("is-hidden", !ok);
      if (ok) shown++;
      ev.querySelectorAll("li.diff").forEach(function (li) { li.classList.toggle("is-hidden", types.indexOf(li.dataset.type) < 0); });
    });
    document.querySelectorAll("[data-outlet]").forEach(function (cell) {
      cell.classList.toggle("hidden-col", outlets.indexOf(cell.dataset.outlet) < 0);
    });
    document.getElementById("shown-count").textContent = shown;
    var counts = {};
    document.querySelectorAll("article.event:not(.is-hidden) li.diff:not(.is-hidden)").forEach(function (li) {
      counts[li.dataset.type] = (counts[li.dataset.type] || 0) + 1;
    });
    document.querySelectorAll("[data-count-type]").forEach(function (td) { td.textContent = counts[td.dataset.countType] || 0; });
    var state = new URLSearchParams();
    if (outlets.length !== outletBoxes.length) state.set("outlets", outlets.join(","));
    if (types.length !== form.querySelectorAll('input[name="type"]').length) state.set("types", types.join(","));
    if (only) state.set("only", "1");
    if (q) state.set("q", q);
    var qs = state.toString();
    try { history.replaceState(null, "", location.pathname + (qs ? "?" + qs : "") + location.hash.split("?")[0]); } catch (e) { /* file:// may refuse */ }
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  apply();

  // Keyboard: j/n next difference, k/p previous.
  var current = -1;
  function visibleDiffs() {
    return Array.prototype.slice.call(document.querySelectorAll("article.event:not(.is-hidden) li.diff:not(.is-hidden)"));
  }
  function go(step) {
    var diffs = visibleDiffs();
    if (!diffs.length) return;
    current = (current + step + diffs.length) % diffs.length;
    diffs.forEach(function (d) { d.classList.remove("current"); });
    var target = diffs[current];
    target.classList.add("current");
    target.setAttribute("tabindex", "-1");
    target.focus();
    target.scrollIntoView({ block: "center" });
    try { history.replaceState(null, "", "#" + target.id); } catch (e) { /* ignore */ }
  }
  document.addEventListener("keydown", function (e) {
    if (e.target && (e.target.tagName === "INPUT" || e.target.tagName === "TEXTAREA")) return;
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "j" || e.key === "n") { go(1); e.preventDefault(); }
    if (e.key === "k" || e.key === "p") { go(-1); e.preventDefault(); }
  });

  // Context: clicking (or Enter on) a statement opens its article with the statement highlighted.
  function showContext(el) {
    var doc = el.dataset.doc, index = el.dataset.index;
    var article = document.getElementById("article-" + doc);
    var ctx = document.getElementById("ctx-" + doc + "-" + index);
    if (!article || !ctx) return;
    document.querySelectorAll(".ctx.focus").forEach(function (c) { c.classList.remove("focus"); });
    article.open = true;
    ctx.classList.add("focus");
    ctx.setAttribute("tabindex", "-1");
    ctx.scrollIntoView({ block: "center" });
    ctx.focus();
  }
  document.querySelectorAll(".statement").forEach(function (el) {
    el.addEventListener("click", function () { showContext(el); });
    el.addEventListener("keydown", function (e) { if (e.key === "Enter") showContext(el); });
  });
})();
