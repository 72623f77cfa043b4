// SOP editor: a mistake's "line:column" button puts the cursor there in the document.
// The list is swapped in by htmx as the administrator types, so clicks are delegated.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.sop-goto");
    if (!button) return;
    var editor = document.getElementById("sop-text");
    if (!editor) return;
    var line = parseInt(button.dataset.line, 10) || 1;
    var column = parseInt(button.dataset.column, 10) || 1;
    var lines = editor.value.split("\n");
    var offset = 0;
    for (var i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i].length + 1;
    var here = lines[Math.min(line, lines.length) - 1] || "";
    offset += Math.min(column - 1, here.length);
    editor.focus();
    editor.setSelectionRange(offset, offset);
    // Bring the line into view: about one line height per line above it.
    var lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
    editor.scrollTop = Math.max(0, (line - 3) * lineHeight);
  });
})();
