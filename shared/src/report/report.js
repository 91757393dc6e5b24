// Severity and rule filters of the findings list. No network, no dependencies.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var ruleSelect = document.getElementById("rule-filter");
  var status = document.getElementById("filter-status");
  var none = document.getElementById("no-findings");
  var findings = Array.prototype.slice.call(document.querySelectorAll("li.finding"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("section.group"));

  function apply() {
    var severities = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[name=severity]"), function (box) {
      severities[box.value] = box.checked;
    });
    var rule = ruleSelect.value;
    var shown = 0;
    findings.forEach(function (item) {
      var visible = severities[item.dataset.severity] === true && (rule === "" || item.dataset.rule === rule);
      item.hidden = !visible;
      if (visible) { shown += 1; }
    });
    groups.forEach(function (group) {
      group.hidden = group.querySelector("li.finding:not([hidden])") === null;
    });
    status.textContent = shown + " of " + findings.length + " findings shown";
    none.hidden = shown !== 0 || findings.length === 0;
  }

  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  apply();
})();
