// Wide tables on a phone (loaded by base.html; app.css does the layout).
// - <table class="stack-cards">: at phone width each row is a card (CSS, from each cell's
//   data-label); the rows and cells keep their table roles for screen readers, which a
//   display other than table would otherwise take away.
// - <div class="scroll-x"> (or the older .table-scroll) around any other wide table: when its
//   content is wider than the box, a visible hint says it scrolls sideways (the words come from
//   <body data-scroll-hint>); it goes when the box fits again (a wider screen).
(function () {
  "use strict";

  function keepRoles(table) {
    table.setAttribute("role", "table");
    var parts = table.querySelectorAll("thead, tbody, tfoot");
    for (var i = 0; i < parts.length; i++) parts[i].setAttribute("role", "rowgroup");
    var rows = table.querySelectorAll("tr");
    for (var r = 0; r < rows.length; r++) rows[r].setAttribute("role", "row");
    var heads = table.querySelectorAll("th");
    for (var h = 0; h < heads.length; h++) {
      heads[h].setAttribute("role", heads[h].getAttribute("scope") === "row" ? "rowheader" : "columnheader");
    }
    var cells = table.querySelectorAll("td");
    for (var c = 0; c < cells.length; c++) cells[c].setAttribute("role", "cell");
  }

  function hintFor(box) {
    var hint = box.previousElementSibling;
    if (hint && hint.classList.contains("scroll-hint")) return hint;
    hint = document.createElement("p");
    hint.className = "scroll-hint";
    hint.setAttribute("aria-hidden", "true");
    hint.textContent = document.body.getAttribute("data-scroll-hint") || "Scroll sideways for more →";
    box.parentNode.insertBefore(hint, box);
    return hint;
  }

  function update(box) {
    var more = box.scrollWidth - box.clientWidth > 2 &&
      box.scrollLeft + box.clientWidth < box.scrollWidth - 2;
    var hint = box.previousElementSibling;
    var has = hint && hint.classList.contains("scroll-hint");
    if (more) {
      hintFor(box).hidden = false;
    } else if (has && box.scrollWidth - box.clientWidth <= 2) {
      hint.hidden = true;
    }
    box.classList.toggle("has-more", more);
  }

  function start() {
    var tables = document.querySelectorAll("table.stack-cards");
    for (var t = 0; t < tables.length; t++) keepRoles(tables[t]);
    var boxes = document.querySelectorAll(".scroll-x, .table-scroll");
    var all = [];
    for (var b = 0; b < boxes.length; b++) {
      (function (box) {
        all.push(box);
        update(box);
        box.addEventListener("scroll", function () { update(box); }, { passive: true });
      })(boxes[b]);
    }
    window.addEventListener("resize", function () { all.forEach(update); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
