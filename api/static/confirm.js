// Irreversible actions ask once (loaded by base.html; a file of its own because the
// Content-Security-Policy allows no inline script).
//
//   <form method="post" data-confirm="Cancel the booking of 3 Dec, 10:00? The member is told.">
//   <form ... data-confirm="..." data-confirm-yes="Publish" data-confirm-reason="required">
//
// On submit a modal <dialog> shows the text with Confirm / Cancel in the page's language (the
// words come from data-confirm-* attributes of <body>); with data-confirm-reason="required" it
// holds a required reason box whose text is copied into the form's field named "reason" (a
// hidden one is added when the form has none). Escape or Cancel sends nothing; the focus goes
// back to the button that was pressed.
(function () {
  "use strict";
  var counter = 0;

  function words(form, name, fallback) {
    return form.getAttribute("data-confirm-" + name) ||
      document.body.getAttribute("data-confirm-" + name) || fallback;
  }

  function reasonField(form) {
    var field = form.elements.namedItem("reason");
    if (field && field.length !== undefined && !field.tagName) field = field[0];
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "reason";
      form.appendChild(field);
    }
    return field;
  }

  function ask(form, submitter) {
    counter += 1;
    var id = "confirm-" + counter;
    var needsReason = form.getAttribute("data-confirm-reason") === "required";
    var dialog = document.createElement("dialog");
    dialog.className = "confirm";
    dialog.setAttribute("aria-labelledby", id + "-text");

    var inner = document.createElement("form");
    inner.method = "dialog";
    var text = document.createElement("p");
    text.id = id + "-text";
    text.className = "confirm-text";
    text.textContent = form.getAttribute("data-confirm");
    inner.appendChild(text);

    var box = null;
    if (needsReason) {
      var label = document.createElement("label");
      label.htmlFor = id + "-reason";
      label.textContent = words(form, "reason-label", "Reason");
      box = document.createElement("textarea");
      box.id = id + "-reason";
      box.required = true;
      box.rows = 3;
      var existing = form.elements.namedItem("reason");
      var limit = existing && existing.getAttribute && existing.getAttribute("maxlength");
      box.maxLength = limit ? parseInt(limit, 10) : 1000;
      if (existing && existing.value) box.value = existing.value;
      inner.appendChild(label);
      inner.appendChild(box);
    }

    var buttons = document.createElement("div");
    buttons.className = "actions";
    var no = document.createElement("button");
    no.type = "button";
    no.textContent = words(form, "no", "Cancel");
    var yes = document.createElement("button");
    yes.type = "submit";
    yes.className = "danger";
    yes.textContent = words(form, "yes", "Confirm");
    buttons.appendChild(yes);
    buttons.appendChild(no);
    inner.appendChild(buttons);
    dialog.appendChild(inner);
    document.body.appendChild(dialog);

    var back = submitter || form.querySelector("[type=submit], button:not([type])");
    var confirmed = false;

    no.addEventListener("click", function () { dialog.close(); });
    inner.addEventListener("submit", function (event) {
      if (box && !box.value.trim()) {
        event.preventDefault();
        box.value = "";
        box.reportValidity();
        return;
      }
      confirmed = true;
    });
    dialog.addEventListener("close", function () {
      dialog.remove();
      if (!confirmed) {
        if (back && back.focus) back.focus();
        return;
      }
      if (box) reasonField(form).value = box.value.trim();
      form.setAttribute("data-confirmed", "1");
      if (form.requestSubmit) {
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      } else {
        form.submit();
      }
    });

    dialog.showModal();
    (box || no).focus();
  }

  // The capture phase: this runs before any other submit handler, which only ever sees a
  // confirmed submit.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-confirm")) return;
    if (form.getAttribute("data-confirmed") === "1") {
      form.removeAttribute("data-confirmed");
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    ask(form, event.submitter);
  }, true);
})();
