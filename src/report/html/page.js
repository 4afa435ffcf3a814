// The page: its title line (top.js), the matrix (matrix.js), the setup
// folded (setup.js), then a section per cell
// whose body and charts (cell.js, charts.js) are built only when it is
// open and near the screen, so a run of hundreds of cells stays quick.
// `#all` in the address opens and draws every cell; `#cell-N` opens one.
// Every error is caught, shown, and counted in <body data-errors>.

// Sections start open when a run has at most this many cells.
var OPEN_UP_TO = 16;

var page = { model: null, cells: [], entries: new Map(), charts: [], observer: null };

function reportError(error, where) {
  var message = (where ? where + ": " : "") + ((error && error.message) || String(error));
  if (window.labourReportError) {
    window.labourReportError(message);
  }
}

// Run `build`; on an error, say so in place of what it would have built.
function guarded(where, build) {
  try {
    return build();
  } catch (error) {
    reportError(error, where);
    return el("p", { className: "broken", text: where + " could not be drawn: " + ((error && error.message) || error) });
  }
}

// Draw `build(cell)`'s option into `box`, or say why not.
function drawChart(cell, box, build) {
  if (typeof echarts === "undefined") {
    throw new Error("ECharts is missing from this page");
  }
  var made = build(cell, "cell-" + cell.index);
  var chart = echarts.init(box, null, { renderer: "svg" });
  chart.setOption(made.option);
  if (made.group) {
    chart.group = made.group;
  }
  page.charts.push({ cell: cell.index, chart: chart });
  box.setAttribute("data-chart", "ready");
  return chart;
}

// Build a cell's body and charts, once.
function buildCell(entry) {
  if (entry.built) {
    return;
  }
  entry.built = true;
  entry.details.classList.remove("unbuilt");
  var made;
  try {
    made = cellBody(page.model, entry.cell);
  } catch (error) {
    reportError(error, entry.cell.server + " / " + entry.cell.test);
    entry.details.appendChild(el("p", { className: "broken", text: "This cell could not be drawn: " + ((error && error.message) || error) }));
    return;
  }
  entry.details.appendChild(el("a", { className: "to-matrix", href: "#matrix", text: "\u2191 the matrix" }));
  entry.details.appendChild(made.body);
  made.pending.forEach(function (item) {
    try {
      drawChart(entry.cell, item[0], item[1]);
    } catch (error) {
      reportError(error, entry.cell.server + " / " + entry.cell.test + ": " + item[2]);
      item[0].style.height = "auto";
      item[0].appendChild(el("p", { className: "broken", text: item[2] + " could not be drawn: " + ((error && error.message) || error) }));
    }
  });
  if (typeof echarts !== "undefined") {
    echarts.connect("cell-" + entry.cell.index);
  }
}

function cellSection(model, cell, open) {
  var kind = kindOf(cell);
  var bits = cellBits(cell);
  var details = el("details", { className: "cell unbuilt kind-" + kind, id: cell.anchor, "data-cell": cell.server + "/" + cell.test, open: open }, [
    el("summary", {}, [
      el("span", { className: "cell-title" }, [el("span", { className: "cell-server", text: cell.server }), " \u00d7 ", el("span", { className: "cell-test", text: cell.test })]),
      el("span", { className: "badge kind-" + kind, text: KINDS[kind].mark + " " + verdictWords(cell) }),
      el("span", { className: "cell-bits", text: bits.join(" \u00b7 ") }),
    ]),
  ]);
  return details;
}

function renderCells(model) {
  var section = document.getElementById("cells");
  var open = model.cells.length <= OPEN_UP_TO;
  var openAll = el("button", { type: "button", text: "Open all" });
  var closeAll = el("button", { type: "button", text: "Close all" });
  openAll.addEventListener("click", function () {
    setAll(true);
  });
  closeAll.addEventListener("click", function () {
    setAll(false);
  });
  section.appendChild(el("div", { className: "toolbar" }, [openAll, closeAll]));
  model.cells.forEach(function (cell) {
    var details = guarded(cell.server + " / " + cell.test, function () {
      return cellSection(model, cell, open);
    });
    section.appendChild(details);
    if (details.tagName !== "DETAILS") {
      return;
    }
    var entry = { cell: cell, details: details, built: false };
    page.cells.push(entry);
    page.entries.set(details, entry);
    // Also fired for sections that start open: build only what is near
    // the screen (the observer builds the rest when it comes near).
    details.addEventListener("toggle", function () {
      if (details.open && nearScreen(details)) {
        buildCell(entry);
        resizeCharts(cell.index);
      }
    });
  });
  if ("IntersectionObserver" in window) {
    page.observer = new IntersectionObserver(
      function (changes) {
        changes.forEach(function (change) {
          var entry = page.entries.get(change.target);
          if (change.isIntersecting && entry && entry.details.open) {
            buildCell(entry);
          }
        });
      },
      { rootMargin: NEAR + "px 0px" }
    );
    page.cells.forEach(function (entry) {
      page.observer.observe(entry.details);
    });
  } else {
    page.cells.forEach(function (entry) {
      if (entry.details.open) {
        buildCell(entry);
      }
    });
  }
}

var NEAR = 400;

function nearScreen(element) {
  var box = element.getBoundingClientRect();
  return box.top < window.innerHeight + NEAR && box.bottom > -NEAR;
}

function setAll(open) {
  page.cells.forEach(function (entry) {
    entry.details.open = open;
  });
}

function resizeCharts(index) {
  page.charts.forEach(function (item) {
    if (index === undefined || item.cell === index) {
      item.chart.resize();
    }
  });
}

function followHash() {
  var hash = window.location.hash;
  if (hash === "#setup") {
    document.getElementById("setup-details").open = true;
    return;
  }
  if (hash === "#all") {
    page.cells.forEach(function (entry) {
      entry.details.open = true;
      buildCell(entry);
    });
    return;
  }
  var match = /^#cell-(\d+)$/.exec(hash);
  if (!match) {
    return;
  }
  var entry = page.cells.filter(function (entry) {
    return entry.cell.index === Number(match[1]);
  })[0];
  if (entry) {
    entry.details.open = true;
    buildCell(entry);
    entry.details.scrollIntoView();
  }
}

function renderFooter(model) {
  var footer = document.getElementById("footer");
  footer.appendChild(
    el("p", {
      text:
        "Made by labour " + (model.generator.labourVersion || "") + " from results written by labour " + (model.run.labourVersion || DASH) +
        ". Charts by Apache ECharts " + (model.generator.echartsVersion || "") +
        " (Apache License 2.0), embedded in this file: it needs no network. The results document is embedded too (#labour-data).",
    })
  );
}

function main() {
  var model;
  try {
    model = readReport(readEmbedded("labour-data"));
  } catch (error) {
    reportError(error, "reading the results");
    document.body.setAttribute("data-ready", "1");
    return;
  }
  page.model = model;
  [
    ["the header", renderHeader],
    ["the matrix", renderMatrix],
    ["the setup", renderSetup],
    ["the cells", renderCells],
    ["the footer", renderFooter],
  ].forEach(function (part) {
    try {
      part[1](model);
    } catch (error) {
      reportError(error, part[0]);
    }
  });
  try {
    followHash();
  } catch (error) {
    reportError(error, "following " + window.location.hash);
  }
  window.addEventListener("hashchange", function () {
    try {
      followHash();
    } catch (error) {
      reportError(error, "following " + window.location.hash);
    }
  });
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      fitMatrix();
      resizeCharts();
    }, 150);
  });
  document.body.setAttribute("data-ready", "1");
}

main();
