/*! Āwhina chat widget loader. Embed: <script src="https://YOUR-AWHINA-SERVER/widget.js" defer></script>
 * Optional, before it: <script>window.AwhinaConfig = { title: "…", greeting: "…" };</script>
 * This file is short-cached; it loads the widget's content-hashed (long-cached) files
 * from the same server. The server fills in the data below when it starts. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.AwhinaWidget) return; // loaded twice: keep the first
  var data = __AWHINA_LOADER_DATA__;
  var base = new URL(".", me.src).href;
  var head = document.head || document.documentElement;
  // socket.io's client defines a global `io`; put back the page's own, if it had one.
  var hadIo = Object.prototype.hasOwnProperty.call(window, "io");
  var pageIo = window.io;
  window.AwhinaWidget = { base: base, defaults: data.defaults };

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + data.assets.css;
  head.appendChild(css);

  function script(path) {
    var s = document.createElement("script");
    s.src = base + path;
    s.async = false; // run in insertion order: socket.io first
    head.appendChild(s);
    return s;
  }
  script(data.assets.io);
  script(data.assets.widget).addEventListener("load", function () {
    if (hadIo) window.io = pageIo;
    else delete window.io;
  });
})();
