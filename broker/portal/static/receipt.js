// The family's signature on the caseworker's phone: draw with a finger (or a mouse) on the
// canvas; on saving, the drawing goes with the form as a PNG data: URL. And the slip's Print button.
(function () {
  "use strict";
  var printer = document.querySelector("[data-print]");
  if (printer) { printer.addEventListener("click", function () { window.print(); }); }
  var canvas = document.getElementById("signature-pad");
  if (!canvas) { return; }
  var ctx = canvas.getContext("2d");
  var save = document.getElementById("signature-save");
  var data = document.getElementById("signature-data");
  var drawing = false;
  var drawn = false;

  function blank() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 4;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    drawn = false;
    save.disabled = true;
  }

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * (canvas.width / box.width),
      y: (event.clientY - box.top) * (canvas.height / box.height)
    };
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    var p = point(event);
    ctx.beginPath();
    ctx.moveTo(p.x, p.y);
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) { return; }
    event.preventDefault();
    var p = point(event);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    drawn = true;
    save.disabled = false;
  });
  function stop() { drawing = false; }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  document.getElementById("signature-clear").addEventListener("click", blank);
  document.getElementById("signature-form").addEventListener("submit", function (event) {
    if (!drawn) { event.preventDefault(); return; }
    data.value = canvas.toDataURL("image/png");
  });
  blank();
}());
