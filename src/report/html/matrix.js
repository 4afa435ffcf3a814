// The matrix of servers x tests, first on the page and sized to fit the
// screen: one small entry per cell whose kind shows by its colour, its
// pattern and its mark, with its figures on hover (a tooltip) and its
// section below on click. Rows sort by name, by failed cells or (a click
// on a test's heading) worst first under one test; servers and tests
// filter by name, and kinds by the legend's checkboxes.

// Heights and widths of an entry, in px, between which it is fitted.
var FIT = { minHeight: 10, maxHeight: 44, minWidth: 22, maxWidth: 88, roomyWidth: 56, roomyHeight: 32, gap: 2 };

var matrix = { model: null, table: null, rows: [], columns: [], kinds: {}, tip: null, grouped: false, groups: {}, interface: "all" };

// Background of a cell within 10%: green at 0%, towards amber at 10%.
function heatColor(cell, failedAbove) {
  var ratio = cell.failureRatio || 0;
  var t = Math.sqrt(Math.min(1, Math.max(0, ratio / failedAbove)));
  var hue = 135 - t * 95;
  return "hsl(" + hue.toFixed(0) + ", 55%, " + (86 - t * 4).toFixed(0) + "%)";
}

// What a screen reader says of an entry, and the first line of its tooltip.
function entryLabel(cell) {
  var label = cell.server + " \u00d7 " + cell.test + ": " + verdictWords(cell);
  if (sentLoad(cell)) {
    label += "; " + pct(cell.failurePercent) + " not as expected, innocent " + pct(cell.innocentPercent);
    if (cell.requestsPerSec !== null) {
      label += ", " + cell.requestsPerSec + " req/s";
    }
  } else {
    label += "; no requests sent";
  }
  return label;
}

function heatEntry(model, cell) {
  var kind = kindOf(cell);
  var entry = el("td", {
    className: "hm kind-" + kind,
    "data-cell": cell.server + "/" + cell.test,
    "data-kind": kind,
  });
  if (kind === "ok") {
    entry.style.backgroundColor = heatColor(cell, model.generator.failedAbove);
  }
  entry.appendChild(
    el("a", { href: "#" + cell.anchor, "aria-label": entryLabel(cell), "data-index": cell.index }, [
      el("span", { className: "hm-mark", "aria-hidden": "true", text: KINDS[kind].mark }),
      sentLoad(cell) ? el("span", { className: "hm-num", "aria-hidden": "true", text: pct(cell.failurePercent) }) : null,
    ])
  );
  return entry;
}

// The servers and tests in the scenario's order (those of a run cut short
// too, their cells "not run"), then those only cells name.
function axes(model) {
  var servers = model.servers.map(function (server) {
    return server.name;
  });
  var tests = model.tests.map(function (test) {
    return test.name;
  });
  model.cells.forEach(function (cell) {
    if (servers.indexOf(cell.server) === -1) {
      servers.push(cell.server);
    }
    if (tests.indexOf(cell.test) === -1) {
      tests.push(cell.test);
    }
  });
  return { servers: servers, tests: tests };
}

function renderMatrix(model) {
  var section = document.getElementById("matrix");
  matrix.model = model;
  var names = axes(model);
  var byKey = new Map();
  // The first cell of a server and test (repeated runs have more).
  model.cells.forEach(function (cell) {
    var key = cell.server + "\u0000" + cell.test;
    if (!byKey.has(key)) {
      byKey.set(key, cell);
    }
  });
  var versions = {};
  var interfaces = {};
  model.servers.forEach(function (server) {
    versions[server.name] = server.version;
    interfaces[server.name] = server.interface || "wsgi";
  });
  // With an ASGI server in the run, the rows are grouped by interface
  // (WSGI first), each group under its heading, with a filter.
  matrix.grouped = model.servers.some(function (server) {
    return server.interface === "asgi";
  });
  var descriptions = {};
  model.tests.forEach(function (test) {
    descriptions[test.name] = test.description;
  });

  matrix.columns = names.tests.map(function (test, index) {
    var cells = model.cells.filter(function (cell) {
      return cell.test === test;
    });
    var counts = kindCounts(cells).map(function (pair) {
      return pair[1] + " " + KINDS[pair[0]].words.toLowerCase();
    });
    var title = test + (descriptions[test] ? ": " + descriptions[test] : "") + (counts.length ? " \u2013 " + counts.join(", ") : "");
    return {
      name: test,
      index: index,
      head: el("th", { scope: "col", className: "hm-test" }, [
        el("button", { type: "button", title: title + ". Click: servers worst first under it", "data-column": index }, [el("span", { text: test })]),
      ]),
      shown: true,
    };
  });
  matrix.rows = names.servers.map(function (server, order) {
    var entries = names.tests.map(function (test) {
      var cell = byKey.get(server + "\u0000" + test);
      return {
        cell: cell || null,
        kind: cell ? kindOf(cell) : "none",
        td: cell ? heatEntry(model, cell) : el("td", { className: "hm kind-none", title: server + " \u00d7 " + test + ": not run" }, [el("span", { className: "hm-mark", text: "\u00b7" })]),
      };
    });
    var count = el("td", { className: "hm-count" });
    var face = interfaces[server] || "wsgi";
    var head = el("th", { scope: "row", className: "hm-server", title: server + (versions[server] ? " " + versions[server] : "") + " (" + face.toUpperCase() + ")" }, [
      el("span", { text: server }),
      matrix.grouped ? el("span", { className: "hm-interface", text: face.toUpperCase() }) : null,
    ]);
    var tr = el("tr", { "data-server": server, "data-interface": face }, [head].concat(
      entries.map(function (entry) {
        return entry.td;
      }),
      [count]
    ));
    return { name: server, order: order, entries: entries, tr: tr, count: count, failed: 0, other: 0, face: face };
  });
  if (matrix.grouped) {
    ["wsgi", "asgi"].forEach(function (face) {
      matrix.groups[face] = el("tr", { className: "hm-group", "data-interface": face }, [
        el("th", { scope: "rowgroup", colspan: String(names.tests.length + 2), text: face.toUpperCase() + " servers" }),
      ]);
    });
  }

  var table = el("table", { className: "heatmap" }, [
    el("caption", { className: "sr-only", text: "Verdict per server and test; each links to its cell's section" }),
    el("thead", {}, [
      el(
        "tr",
        {},
        [el("th", { scope: "col", className: "corner" })].concat(
          matrix.columns.map(function (column) {
            return column.head;
          }),
          [el("th", { scope: "col", className: "hm-count-head", title: "Per server: its cells Failed, Server down, Unresponsive or Pre-flight failed, among the tests shown" }, [el("span", { text: "\u2717" })])]
        )
      ),
    ]),
    el(
      "tbody",
      {},
      matrix.rows.map(function (row) {
        return row.tr;
      })
    ),
  ]);
  matrix.table = table;
  section.appendChild(
    el("div", { className: "matrix-layout" }, [el("div", { className: "heatmap-scroll" }, [table]), matrixPanel(model)])
  );
  matrix.tip = el("div", { className: "hm-tip", role: "tooltip", hidden: true });
  section.appendChild(matrix.tip);
  wireMatrix(table);
  applyFilters();
  fitMatrix();
}

// The panel beside the matrix: the filters, the sort, the legend (whose
// checkboxes show or hide each kind) and what f% means.
function matrixPanel(model) {
  var servers = el("input", { type: "search", id: "filter-servers", placeholder: "e.g. gunicorn, py27", autocomplete: "off" });
  var tests = el("input", { type: "search", id: "filter-tests", placeholder: "e.g. Sleep, SIGSEGV", autocomplete: "off" });
  var sort = el("select", { id: "sort-rows" }, [
    el("option", { value: "run", text: "as run" }),
    el("option", { value: "name", text: "by name" }),
    el("option", { value: "most", text: "most \u2717 first" }),
    el("option", { value: "fewest", text: "fewest \u2717 first" }),
  ]);
  [servers, tests].forEach(function (input) {
    input.addEventListener("input", applyFilters);
  });
  sort.addEventListener("change", applyFilters);
  var counts = kindCounts(model.cells);
  var legend = el(
    "fieldset",
    { className: "legend" },
    [el("legend", { text: "Show cells" })].concat(
      counts.map(function (pair) {
        var kind = pair[0];
        var box = el("input", { type: "checkbox", checked: true, "data-kind": kind });
        matrix.kinds[kind] = true;
        box.addEventListener("change", function () {
          matrix.kinds[kind] = box.checked;
          applyFilters();
        });
        return el("label", { title: KINDS[kind].legend }, [
          box,
          el("span", { className: "swatch kind-" + kind, "aria-hidden": "true", text: KINDS[kind].mark }),
          el("span", { className: "legend-count", text: String(pair[1]) }),
          " " + KINDS[kind].words,
        ]);
      })
    )
  );
  var reset = el("button", { type: "button", text: "Show all" });
  reset.addEventListener("click", function () {
    servers.value = "";
    tests.value = "";
    legend.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      box.checked = true;
      matrix.kinds[box.getAttribute("data-kind")] = true;
    });
    applyFilters();
  });
  // Show one interface's servers, or both (a run with an ASGI server).
  var faces = null;
  if (matrix.grouped) {
    faces = el("div", { className: "hm-filter field", role: "radiogroup", "aria-label": "Servers shown" }, ["Interface"]);
    [["all", "both"], ["wsgi", "WSGI"], ["asgi", "ASGI"]].forEach(function (choice) {
      var input = el("input", { type: "radio", name: "hm-interface", value: choice[0], checked: choice[0] === "all" });
      input.addEventListener("change", function () {
        matrix.interface = choice[0];
        applyFilters();
      });
      faces.appendChild(el("label", {}, [input, " " + choice[1]]));
    });
  }
  return el("aside", { className: "matrix-panel", "aria-label": "Sort and filter the matrix" }, [
    faces,
    el("label", { className: "field" }, ["Servers", servers]),
    el("label", { className: "field" }, ["Tests", tests]),
    el("label", { className: "field" }, ["Rows", sort]),
    legend,
    el("div", { className: "panel-foot" }, [reset, el("span", { className: "shown quiet", id: "matrix-shown" })]),
    el("p", {
      className: "hint",
      text:
        "Hover a cell for its figures; click it for its story below. f%: the share of requests not as expected (Failed past " +
        (model.generator.failedAbove * 100).toFixed(0) + "%); innocent: the share of the innocent requests (PlainResponse) that failed. " +
        "Filters take names or parts of names, separated by commas or spaces.",
    }),
  ]);
}

// `text` as lower-case terms: a name matches when it contains one.
function terms(text) {
  return text
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean);
}

function matches(name, words) {
  var lower = name.toLowerCase();
  return (
    !words.length ||
    words.some(function (word) {
      return lower.indexOf(word) !== -1;
    })
  );
}

// Show the rows, columns and entries the filters leave, count each row's
// failed cells over the columns shown, and sort the rows.
function applyFilters() {
  var serverWords = terms(document.getElementById("filter-servers").value);
  var testWords = terms(document.getElementById("filter-tests").value);
  // With every kind shown, a row or column of cells not run stays too.
  var everyKind = Object.keys(matrix.kinds).every(function (kind) {
    return matrix.kinds[kind];
  });
  var kindShown = function (kind) {
    return kind === "none" ? everyKind : matrix.kinds[kind] !== false;
  };
  var rowNamed = matrix.rows.map(function (row) {
    return matches(row.name, serverWords) && (matrix.interface === "all" || row.face === matrix.interface);
  });
  var columnNamed = matrix.columns.map(function (column) {
    return matches(column.name, testWords);
  });
  // A row or column stays when one of its cells, among those named, is of
  // a kind shown.
  matrix.rows.forEach(function (row, r) {
    row.shown =
      rowNamed[r] &&
      row.entries.some(function (entry, c) {
        return columnNamed[c] && kindShown(entry.kind);
      });
  });
  matrix.columns.forEach(function (column, c) {
    column.shown =
      columnNamed[c] &&
      matrix.rows.some(function (row, r) {
        return rowNamed[r] && kindShown(row.entries[c].kind);
      });
    column.head.hidden = !column.shown;
  });
  matrix.rows.forEach(function (row) {
    row.tr.hidden = !row.shown;
    row.failed = 0;
    row.other = 0;
    row.entries.forEach(function (entry, c) {
      entry.td.hidden = !matrix.columns[c].shown;
      entry.td.classList.toggle("hm-off", entry.kind !== "none" && !kindShown(entry.kind));
      if (!matrix.columns[c].shown || !entry.cell) {
        return;
      }
      if (KINDS[entry.kind].against) {
        row.failed += 1;
      } else if (entry.kind !== "ok") {
        row.other += 1;
      }
    });
    row.count.textContent = row.failed ? String(row.failed) : "";
  });
  sortRows(document.getElementById("sort-rows").value);
  var rowsShown = matrix.rows.filter(function (row) {
    return row.shown;
  }).length;
  var columnsShown = matrix.columns.filter(function (column) {
    return column.shown;
  }).length;
  document.getElementById("matrix-shown").textContent =
    rowsShown + " of " + matrix.rows.length + " servers, " + columnsShown + " of " + matrix.columns.length + " tests";
}

// Worst first, when rows sort by one test's column.
var SEVERITY = [
  "server_down", "unresponsive", "failed", "abrupt", "preflight_failed", "error", "engine_lost",
  "fault_late", "no_load", "stalled", "interrupted", "unknown", "skipped", "ok", "graceful", "none",
];

// Sort the rows by the column of test `index`: the worst kind first, then
// the larger share not as expected.
function byColumn(index) {
  return function (a, b) {
    var one = a.entries[index];
    var other = b.entries[index];
    var ratio = function (entry) {
      return entry.cell && entry.cell.failureRatio !== null ? entry.cell.failureRatio : -1;
    };
    return SEVERITY.indexOf(one.kind) - SEVERITY.indexOf(other.kind) || ratio(other) - ratio(one) || a.order - b.order;
  };
}

// Sort rows by the column of test `index` (a click on its heading).
function sortByTest(index) {
  var select = document.getElementById("sort-rows");
  var value = "test:" + index;
  var option = select.querySelector("option.by-test") || el("option", { className: "by-test" });
  option.value = value;
  option.textContent = "worst under " + matrix.columns[index].name;
  select.appendChild(option);
  select.value = value;
  applyFilters();
}

function sortRows(how) {
  var rows = matrix.rows.slice();
  var byOrder = function (a, b) {
    return a.order - b.order;
  };
  var test = /^test:(\d+)$/.exec(how);
  matrix.columns.forEach(function (column) {
    column.head.classList.toggle("sorted", test !== null && column.index === Number(test[1]));
  });
  if (test && matrix.columns[Number(test[1])]) {
    rows.sort(byColumn(Number(test[1])));
    reorder(rows);
    return;
  }
  var compare = {
    run: byOrder,
    name: function (a, b) {
      return a.name < b.name ? -1 : a.name > b.name ? 1 : byOrder(a, b);
    },
    most: function (a, b) {
      return b.failed - a.failed || b.other - a.other || byOrder(a, b);
    },
    fewest: function (a, b) {
      return a.failed - b.failed || a.other - b.other || byOrder(a, b);
    },
  }[how] || byOrder;
  rows.sort(compare);
  reorder(rows);
}

// Put the rows in `rows`' order; grouped by interface, WSGI first, each
// group under its heading (shown while one of its rows is).
function reorder(rows) {
  var body = matrix.table.tBodies[0];
  if (!matrix.grouped) {
    rows.forEach(function (row) {
      body.appendChild(row.tr);
    });
    return;
  }
  ["wsgi", "asgi"].forEach(function (face) {
    var group = rows.filter(function (row) {
      return row.face === face;
    });
    var heading = matrix.groups[face];
    heading.hidden = !group.some(function (row) {
      return row.shown;
    });
    body.appendChild(heading);
    group.forEach(function (row) {
      body.appendChild(row.tr);
    });
  });
}

// Size the entries so the whole matrix fits the window below its top
// (within FIT's bounds: past them it scrolls), from the number of rows
// and columns of the whole matrix, so filtering does not resize it.
function fitMatrix() {
  var table = matrix.table;
  if (!table || !matrix.rows.length) {
    return;
  }
  // Any row shown measures the server names' and the counts' columns.
  var shown = matrix.rows.filter(function (row) {
    return !row.tr.hidden;
  })[0];
  if (!shown) {
    return;
  }
  var scroller = table.parentNode;
  var body = table.tBodies[0];
  var rowHead = shown.tr.cells[0].getBoundingClientRect().width;
  var countWidth = shown.tr.cells[shown.tr.cells.length - 1].getBoundingClientRect().width;
  var bodyTop = body.getBoundingClientRect().top + window.scrollY;
  var headings = matrix.grouped ? 2 : 0;
  var height = (window.innerHeight - bodyTop - 16) / (matrix.rows.length + headings) - FIT.gap;
  var width = (scroller.clientWidth - rowHead - countWidth - FIT.gap * (matrix.columns.length + 3)) / Math.max(1, matrix.columns.length) - FIT.gap;
  height = Math.floor(Math.min(FIT.maxHeight, Math.max(FIT.minHeight, height)));
  width = Math.floor(Math.min(FIT.maxWidth, Math.max(FIT.minWidth, width)));
  table.style.setProperty("--hm-h", height + "px");
  table.style.setProperty("--hm-w", width + "px");
  table.classList.toggle("roomy", width >= FIT.roomyWidth && height >= FIT.roomyHeight);
}

// The matrix's events: one tooltip for every entry (its verdict and
// figures, placed beside it), a click on a test's heading, a click on the
// entry already in the address.
function wireMatrix(table) {
  var tip = matrix.tip;
  var show = function (target) {
    var link = target && target.closest ? target.closest("td.hm a") : null;
    if (!link) {
      return;
    }
    var cell = matrix.model.cells[Number(link.getAttribute("data-index"))];
    if (!cell) {
      return;
    }
    var kind = kindOf(cell);
    tip.textContent = "";
    tip.appendChild(el("div", { className: "tip-title" }, [el("strong", { text: cell.server }), " \u00d7 ", el("strong", { text: cell.test })]));
    tip.appendChild(el("div", { className: "tip-verdict" }, [el("span", { className: "swatch kind-" + kind, text: KINDS[kind].mark }), " " + verdictWords(cell)]));
    var bits = cellBits(cell);
    if (bits.length) {
      tip.appendChild(el("div", { text: bits.join(" \u00b7 ") }));
    } else {
      tip.appendChild(el("div", { text: cell.error ? cell.error.message.split("\n")[0] : "No requests were sent." }));
    }
    tip.appendChild(el("div", { className: "quiet", text: "Click for its charts and log." }));
    tip.hidden = false;
    var box = link.getBoundingClientRect();
    var tipBox = tip.getBoundingClientRect();
    var left = box.right + 8;
    if (left + tipBox.width > window.innerWidth - 4) {
      left = Math.max(4, box.left - tipBox.width - 8);
    }
    var top = Math.min(box.top, window.innerHeight - tipBox.height - 4);
    tip.style.left = left + "px";
    tip.style.top = Math.max(4, top) + "px";
  };
  var hide = function () {
    tip.hidden = true;
  };
  table.addEventListener("mouseover", function (event) {
    show(event.target);
  });
  table.addEventListener("focusin", function (event) {
    show(event.target);
  });
  table.tHead.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-column]") : null;
    if (button) {
      sortByTest(Number(button.getAttribute("data-column")));
    }
  });
  table.addEventListener("mouseleave", hide);
  table.addEventListener("focusout", hide);
  window.addEventListener("scroll", hide, { passive: true });
  // A click on the entry already in the address opens it again.
  table.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("td.hm a") : null;
    if (link && link.getAttribute("href") === window.location.hash) {
      event.preventDefault();
      followHash();
    }
  });
}
