/* storydiff review view: filters, outlet columns, tooltips, keyboard navigation, context view.
   Progressive enhancement: without JavaScript everything is visible and the filters are absent.
   The page makes no network request; all state lives in the URL (?types=&outlet=&only=&q=&min=&cols=).
   Confidence: each event lists its differences most confident first; those below the threshold (the
   range input, ?min=) wait in a <details> ("show N less certain"), which also works without script. */
(function () {
  "use strict";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  var form = $("#filters");
  if (!form) return;
  var data = {};
  try { data = JSON.parse($("#report-data").textContent); } catch (e) { data = {}; }
  var events = $$("article.event");
  var allTypes = $$('input[name="type"]', form).map(function (i) { return i.value; });
  var colBoxes = $$('input[name="col"]', form);
  var select = $('select[name="outlet"]', form), only = $('input[name="only"]', form), search = $('input[name="q"]', form);
  var status = $("#filter-status"), noMatch = $("#no-match");
  var minInput = $('input[name="min"]', form), minOut = $("#min-conf-value");
  var lessButton = $('[data-action="less-certain"]', form);
  var defaultMin = typeof data.min_confidence === "number" ? data.min_confidence : 0.5;
  function clamp01(x) { return isFinite(x) ? Math.min(1, Math.max(0, x)) : defaultMin; }
  function confidenceOf(li) { var c = parseFloat(li.dataset.confidence); return isFinite(c) ? c : 1; }
  // Document ids come from file names and manifests and may hold spaces: the attribute is a JSON list.
  function outletsOf(ev) {
    try { var list = JSON.parse(ev.dataset.outlets || "[]"); return Array.isArray(list) ? list : []; }
    catch (e) { return []; }
  }
  var eventInfo = events.map(function (ev) {
    return {
      el: ev,
      types: (ev.dataset.types || "").split(" ").filter(Boolean),
      outlets: outletsOf(ev),
      text: ev.textContent.toLowerCase(),
      diffs: $$("li.diff", ev),
      certainList: $('ul[data-list="certain"]', ev),
      lessList: $('ul[data-list="uncertain"]', ev),
      less: $("details.less-certain", ev)
    };
  });
  form.hidden = false;

  // ---- URL state -------------------------------------------------------------------------------
  function readState() {
    var p = new URLSearchParams(location.search);
    var types = p.has("types") ? p.get("types").split(",").filter(Boolean) : allTypes.slice();
    $$('input[name="type"]', form).forEach(function (i) { i.checked = types.indexOf(i.value) >= 0; });
    select.value = p.get("outlet") || "";
    if (select.value !== (p.get("outlet") || "")) select.value = "";
    only.checked = p.get("only") === "1";
    search.value = p.get("q") || "";
    minInput.value = String(p.has("min") ? clamp01(parseFloat(p.get("min"))) : defaultMin);
    if (colBoxes.length) {
      var cols = p.has("cols") ? p.get("cols").split(",") : (data.columns || []);
      colBoxes.forEach(function (b) { b.checked = cols.indexOf(b.value) >= 0; });
    }
  }
  function writeState(s) {
    var p = new URLSearchParams();
    if (s.types.length !== allTypes.length) p.set("types", s.types.join(","));
    if (s.outlet) p.set("outlet", s.outlet);
    if (s.only) p.set("only", "1");
    if (s.q) p.set("q", s.q);
    if (Math.abs(s.min - defaultMin) > 1e-9) p.set("min", s.min.toFixed(2));
    if (colBoxes.length) {
      var def = (data.columns || []).join(",");
      if (s.cols.join(",") !== def) p.set("cols", s.cols.join(","));
    }
    var qs = p.toString();
    try { history.replaceState(null, "", location.pathname + (qs ? "?" + qs : "") + location.hash); } catch (e) { /* ignore */ }
  }
  function state() {
    return {
      types: $$('input[name="type"]:checked', form).map(function (i) { return i.value; }),
      outlet: select.value, only: only.checked, q: search.value.trim().toLowerCase(),
      min: clamp01(parseFloat(minInput.value)),
      cols: colBoxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; })
    };
  }

  // ---- Filtering -------------------------------------------------------------------------------
  function passes(info, s, skip) {
    var typeFilter = s.types.length !== allTypes.length;
    if (skip !== "type" && typeFilter && !info.types.some(function (t) { return s.types.indexOf(t) >= 0; })) return false;
    if (skip !== "outlet" && s.outlet && info.outlets.indexOf(s.outlet) < 0) return false;
    if (skip !== "only" && s.only && !info.types.length) return false;
    if (skip !== "q" && s.q && info.text.indexOf(s.q) < 0) return false;
    return true;
  }
  function apply() {
    var s = state(), shown = 0, diffsShown = 0;
    eventInfo.forEach(function (info) {
      var ok = passes(info, s);
      info.el.classList.toggle("is-hidden", !ok);
      if (ok) shown++;
      info.diffs.forEach(function (li) {
        var on = s.types.indexOf(li.dataset.type) >= 0;
        li.classList.toggle("is-hidden", !on);
        if (ok && on) diffsShown++;
      });
    });
    $$("#unique li.diff").forEach(function (li) { li.classList.toggle("is-hidden", s.types.indexOf(li.dataset.type) < 0); });
    var less = applyConfidence(s.min);
    dimHighlights();
    // Counts next to each filter: what you would get by changing only that filter.
    var typeCounts = {}, outletCounts = {}, onlyCount = 0;
    eventInfo.forEach(function (info) {
      if (passes(info, s, "type")) info.diffs.forEach(function (li) { typeCounts[li.dataset.type] = (typeCounts[li.dataset.type] || 0) + 1; });
      if (passes(info, s, "outlet")) info.outlets.forEach(function (o) { outletCounts[o] = (outletCounts[o] || 0) + 1; });
      if (passes(info, s, "only") && info.types.length) onlyCount++;
    });
    $$("[data-count-type]", form).forEach(function (n) { n.textContent = typeCounts[n.dataset.countType] || 0; });
    $("[data-count-only]", form).textContent = onlyCount;
    $$("option", select).forEach(function (o) {
      var n = o.value ? (outletCounts[o.value] || 0) : eventInfo.filter(function (i) { return passes(i, s, "outlet"); }).length;
      o.textContent = o.dataset.label + " (" + n + ")";
    });
    diffsShown -= less;
    status.textContent = shown + " of " + eventInfo.length + " events shown · " + diffsShown + " difference" + (diffsShown === 1 ? "" : "s") +
      " with confidence " + s.min.toFixed(2) + " or more" + (less ? " · " + less + " less certain" : "");
    if (noMatch) noMatch.hidden = shown > 0 || !eventInfo.length;
    applyColumns(s.cols);
    writeState(s);
  }
  // ---- Confidence: split each event's list at the threshold --------------------------------------
  function applyConfidence(min) {
    minOut.textContent = min.toFixed(2);
    minInput.setAttribute("aria-valuetext", min.toFixed(2));
    var lessShown = 0;
    eventInfo.forEach(function (info) {
      if (!info.certainList || !info.lessList) return;
      var n = 0;
      info.diffs.forEach(function (li) {  // in confidence order: appending keeps each list sorted
        var target = confidenceOf(li) >= min ? info.certainList : info.lessList;
        target.appendChild(li);
        if (target === info.lessList && !li.classList.contains("is-hidden")) n++;
      });
      info.certainList.hidden = !info.certainList.children.length;
      info.less.hidden = n === 0;
      $(".n-less", info.less).textContent = n;
      $(".n-word", info.less).textContent = n === 1 ? "difference" : "differences";
      $(".thr", info.less).textContent = min.toFixed(2);
      if (!info.el.classList.contains("is-hidden")) lessShown += n;
    });
    $$("td.cov[data-confidence]").forEach(function (td) {
      td.classList.toggle("cov--uncertain", confidenceOf(td) < min);
    });
    $$("#unique li.diff[data-confidence]").forEach(function (li) {
      li.classList.toggle("diff--uncertain", confidenceOf(li) < min);
    });
    $("[data-count-less]", form).textContent = lessShown;
    lessButton.hidden = lessShown === 0;
    syncLessButton();
    return lessShown;
  }
  function lessPanels() {
    return eventInfo.map(function (i) { return i.less; }).filter(function (d) { return d && !d.hidden; });
  }
  function syncLessButton() {
    var panels = lessPanels();
    var allOpen = panels.length > 0 && panels.every(function (d) { return d.open; });
    lessButton.setAttribute("aria-pressed", allOpen ? "true" : "false");
    lessButton.firstChild.textContent = allOpen ? "Hide all " : "Show all ";
  }
  // A difference counts as shown when no filter hides it and it is not folded away below the threshold.
  function diffShown(li) {
    if (li.classList.contains("is-hidden") || li.closest(".is-hidden")) return false;
    var fold = li.closest("details.less-certain");
    return !fold || fold.open;
  }
  function dimHighlights() {
    $$("mark.hl[data-diff]").forEach(function (m) {
      var li = document.getElementById("diff-" + m.dataset.diff);
      m.classList.toggle("dimmed", !!li && !diffShown(li) && !li.closest("#unique"));
    });
  }
  document.addEventListener("toggle", function (e) {  // toggle does not bubble: listen while capturing
    if (e.target.matches && e.target.matches("details.less-certain")) { dimHighlights(); syncLessButton(); }
  }, true);

  function applyColumns(cols) {
    if (!colBoxes.length) return;
    $$("article.event").forEach(function (ev) {
      var hiddenAny = false;
      $$("[data-outlet]", ev).forEach(function (el) {
        var hide = cols.indexOf(el.dataset.outlet) < 0;
        if (el.classList.contains("add-col")) { el.hidden = !hide; if (hide) hiddenAny = true; }
        else el.classList.toggle("hidden-col", hide);
      });
      var c = $(".collapsed", ev);
      if (c) c.hidden = !hiddenAny;
      var table = $("table.side-by-side", ev);
      if (table) table.classList.toggle("no-cols", cols.length === 0);
    });
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  document.addEventListener("click", function (e) {
    var add = e.target.closest && e.target.closest("button.add-col");
    if (add) {
      colBoxes.forEach(function (b) { if (b.value === add.dataset.outlet) b.checked = true; });
      apply();
      var th = $('th[data-outlet="' + CSS.escape(add.dataset.outlet) + '"]', add.closest("article.event"));
      if (th) { th.setAttribute("tabindex", "-1"); th.focus(); }
      return;
    }
    var reset = e.target.closest && e.target.closest('[data-action="reset"]');
    if (reset) {
      $$('input[name="type"]', form).forEach(function (i) { i.checked = true; });
      select.value = ""; only.checked = false; search.value = ""; minInput.value = String(defaultMin);
      apply();
    }
    var lessAll = e.target.closest && e.target.closest('[data-action="less-certain"]');
    if (lessAll) {
      var open = lessAll.getAttribute("aria-pressed") !== "true";
      lessPanels().forEach(function (d) { d.open = open; });
      syncLessButton();
      dimHighlights();
    }
  });

  // ---- Tooltips: explanation of a highlight, cues of a statement --------------------------------
  var tip = $("#tip"), tipFor = null, hideTimer = null;
  function tipContent(el) {
    tip.textContent = "";
    if (el.matches("mark[data-diff]")) {
      var li = document.getElementById("diff-" + el.dataset.diff);
      var head = document.createElement("div");
      head.className = "tip-type";
      head.textContent = (li ? li.dataset.type : "") + " · " + el.dataset.diff;
      tip.appendChild(head);
      var why = document.getElementById("why-" + el.dataset.diff);
      var body = document.createElement("div");
      body.textContent = why ? why.textContent : "";
      tip.appendChild(body);
      var stmt = el.closest(".statement"), cues = [];
      if (li && stmt) $$('.evidence a.ev[data-statement="' + CSS.escape(stmt.id) + '"]', li).forEach(function (a) {
        var c = a.parentNode.querySelector(".ev-cues");
        var t = c ? c.textContent.replace(/^\s*—\s*rests on\s*/, "") : "";
        if (t && cues.indexOf(t) < 0) cues.push(t);
      });
      if (cues.length) { var r = document.createElement("div"); r.className = "tip-hint"; r.textContent = "Rests on " + cues.join("; "); tip.appendChild(r); }
    } else {
      var list = document.getElementById(el.getAttribute("aria-describedby") || "");
      var h = document.createElement("div");
      h.className = "tip-type";
      h.textContent = "Cues in this statement";
      tip.appendChild(h);
      var ul = document.createElement("ul");
      $$("li", list).forEach(function (li) { var x = document.createElement("li"); x.textContent = li.textContent; ul.appendChild(x); });
      tip.appendChild(ul);
      var hint = document.createElement("div");
      hint.className = "tip-hint";
      hint.textContent = "Click or press Enter to see it in its article.";
      tip.appendChild(hint);
    }
  }
  function showTip(el) {
    clearTimeout(hideTimer);
    if (tipFor === el) return;
    tipFor = el;
    tipContent(el);
    tip.hidden = false;
    var r = el.getBoundingClientRect(), t = tip.getBoundingClientRect();
    var left = Math.min(window.scrollX + r.left, window.scrollX + document.documentElement.clientWidth - t.width - 8);
    var top = window.scrollY + r.bottom + 6;
    if (r.bottom + t.height + 12 > window.innerHeight && r.top > t.height + 12) top = window.scrollY + r.top - t.height - 6;
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = top + "px";
  }
  function hideTip(now) {
    clearTimeout(hideTimer);
    var go = function () { tip.hidden = true; tipFor = null; };
    if (now) go(); else hideTimer = setTimeout(go, 150);
  }
  function tipTarget(node) {
    if (!node || !node.closest) return null;
    return node.closest("mark.hl[data-diff]") || node.closest(".statement[aria-describedby]");
  }
  document.addEventListener("mouseover", function (e) {
    if (tip.contains(e.target)) { clearTimeout(hideTimer); return; }  // the tooltip itself is hoverable
    var t = tipTarget(e.target);
    if (t) showTip(t); else if (tipFor) hideTip(false);
  });
  document.addEventListener("focusin", function (e) { var t = tipTarget(e.target); if (t && e.target === t) showTip(t); else hideTip(true); });
  document.addEventListener("focusout", function () { hideTip(false); });

  // ---- Keyboard: j/n next difference, k/p previous ---------------------------------------------
  var current = null;
  function visibleDiffs() {
    return $$("li.diff").filter(diffShown);
  }
  function go(step) {
    var diffs = visibleDiffs();
    if (!diffs.length) return;
    var i = current ? diffs.indexOf(current) : -1;
    if (i < 0 && current === null && location.hash) i = diffs.indexOf(document.getElementById(location.hash.slice(1))) ;
    i = i < 0 ? (step > 0 ? 0 : diffs.length - 1) : (i + step + diffs.length) % diffs.length;
    select_(diffs[i]);
  }
  function select_(li) {
    $$(".diff.current").forEach(function (d) { d.classList.remove("current"); });
    $$("mark.current-hl").forEach(function (m) { m.classList.remove("current-hl"); });
    current = li;
    li.classList.add("current");
    $$('mark[data-diff="' + CSS.escape(li.dataset.diff) + '"]').forEach(function (m) { m.classList.add("current-hl"); });
    li.setAttribute("tabindex", "-1");
    li.focus({ preventScroll: true });
    li.scrollIntoView({ block: "center" });
    try { history.replaceState(null, "", location.pathname + location.search + "#" + li.id); } catch (e) { /* ignore */ }
  }
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { hideTip(true); if (!panel.hidden) closeContext(); return; }
    var tag = e.target && e.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (e.target && e.target.isContentEditable)) return;
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "j" || e.key === "n") { go(1); e.preventDefault(); }
    else if (e.key === "k" || e.key === "p") { go(-1); e.preventDefault(); }
    else if (e.key === "Enter" && e.target.classList && e.target.classList.contains("statement")) { openContext(e.target); e.preventDefault(); }
  });

  // ---- Context: a statement inside its full article ---------------------------------------------
  var panel = $("#context"), panelBody = $("#context-body"), opener = null;
  function openContext(stmt) {
    var doc = stmt.dataset.doc, index = stmt.dataset.index;
    var article = document.getElementById("article-" + doc);
    if (!article) return;
    opener = stmt;
    var copy = article.cloneNode(true);
    copy.removeAttribute("id");
    copy.removeAttribute("aria-labelledby");
    $$("[id]", copy).forEach(function (n) { n.setAttribute("data-id", n.id); n.removeAttribute("id"); });
    var target = $('[data-id="' + CSS.escape("ctx-" + doc + "-" + index) + '"]', copy);
    if (target) target.classList.add("focus");
    panelBody.textContent = "";
    panelBody.appendChild(copy);
    $$(".statement.ctx-source").forEach(function (s) { s.classList.remove("ctx-source"); });
    stmt.classList.add("ctx-source");
    panel.hidden = false;
    panel.focus();
    if (target) target.scrollIntoView({ block: "center" });
  }
  function closeContext() {
    panel.hidden = true;
    if (opener) { opener.classList.remove("ctx-source"); opener.focus(); }
  }
  $("#context-close").addEventListener("click", closeContext);
  document.addEventListener("click", function (e) {
    if (!e.target.closest) return;
    var link = e.target.closest("a.ctx-link");
    var stmt = link ? document.getElementById(link.dataset.statement) : e.target.closest("main .statement");
    if (!stmt || panel.contains(stmt)) return;
    if (!link && e.target.closest("a")) return;
    if (link) e.preventDefault();
    openContext(stmt);
  });

  readState();
  apply();
  // A permalink to something a filter hides: show everything rather than an empty jump.
  if (location.hash) {
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.closest(".is-hidden")) { $('[data-action="reset"]').click(); }
    var fold = target && target.closest("details.less-certain");
    if (fold) fold.open = true;
    if (target) target.scrollIntoView();
  }
})();
