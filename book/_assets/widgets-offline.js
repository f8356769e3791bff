// Lets the ipywidgets HTML manager run from the book's own files, with no network.
// 1. The manager finds its fonts and bundles next to the AMD module it loads:
//    point that module at the copy served under _static/vendor.
// 2. It typesets widget labels with the MathJax 2 API, while the book uses MathJax 3:
//    map the one call it makes onto MathJax 3.
(function () {
  var root = document.documentElement.dataset.content_root || "";
  require.config({
    paths: { "@jupyter-widgets/html-manager/dist": root + "_static/vendor/html-manager" },
  });
  window.addEventListener("load", function () {
    if (window.MathJax && !window.MathJax.Hub) {
      window.MathJax.Hub = {
        Queue: function (job) {
          var element = job[2];
          if (window.MathJax.typesetPromise && element) {
            window.MathJax.typesetPromise([element]);
          }
        },
      };
    }
  });
})();
