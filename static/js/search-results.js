// Search fields whose results are a list of buttons (the directory's customers, addresses):
// Enter in the field does not submit the page's form but goes to the first result, and the
// arrow keys move between the field and its results; Enter or Space on a result picks it.
(function () {
  function resultsOf(input) {
    return document.getElementById(input.getAttribute("data-results"));
  }
  function buttonsOf(list) {
    return list ? Array.prototype.slice.call(list.querySelectorAll("button")) : [];
  }
  document.addEventListener("keydown", function (event) {
    var element = event.target;
    if (!element || !element.matches) {
      return;
    }
    if (element.matches("input[data-results]")) {
      var items = buttonsOf(resultsOf(element));
      if (event.key === "Enter") {
        event.preventDefault();
        if (items.length) {
          items[0].focus();
        } else if (window.htmx) {
          window.htmx.trigger(element, "search");
        }
      } else if (event.key === "ArrowDown" && items.length) {
        event.preventDefault();
        items[0].focus();
      }
      return;
    }
    var list = element.closest("[data-results-list]");
    if (!list || element.tagName !== "BUTTON") {
      return;
    }
    var all = buttonsOf(list);
    var index = all.indexOf(element);
    if (event.key === "ArrowDown" && index < all.length - 1) {
      event.preventDefault();
      all[index + 1].focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (index > 0) {
        all[index - 1].focus();
      } else {
        var input = document.querySelector("[data-results='" + list.id + "']");
        if (input) {
          input.focus();
        }
      }
    }
  });
})();
