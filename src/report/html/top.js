// The top of the page: what a cell's kind means (its words, mark and
// legend), the run's title line with the count of cells by kind, and the
// words a cell is summed up in (its tooltip, its section's summary).

// `against`: a verdict on the server itself (what "most failed first"
// counts), not on the run.
var KINDS = {
  ok: { mark: "\u2713", words: "Held", legend: "Held: at most 10% not as expected, innocent requests kept coming back" },
  stalled: { mark: "\u223f", words: "Stalled", legend: "Stalled: within 10%, but innocent requests waited with none coming back for a stall (--stall, 1 s)" },
  graceful: { mark: "\u25ce", words: "Graceful", legend: "Graceful: a stop finished and answered every request the application had in hand, then exited" },
  abrupt: { mark: "\u2702", words: "Abrupt", legend: "Abrupt: a graceful stop dropped a request the application had in hand", against: true },
  failed: { mark: "\u2717", words: "Failed", legend: "Failed: more than 10% not as expected", against: true },
  server_down: { mark: "\u2193", words: "Server down", legend: "Server down: died and stayed down", against: true },
  unresponsive: { mark: "\u22ef", words: "Unresponsive", legend: "Unresponsive: nothing as expected for the give-up time", against: true },
  preflight_failed: { mark: "\u2298", words: "Pre-flight failed", legend: "Pre-flight failed: no load sent", against: true },
  error: { mark: "\u26a0", words: "Error", legend: "Error: could not build or start" },
  skipped: { mark: "\u2205", words: "Skipped", legend: "Skipped: the runtime cannot run it" },
  interrupted: { mark: "\u2016", words: "Interrupted", legend: "Interrupted: cut short by a signal" },
  engine_lost: { mark: "\u2300", words: "Engine lost", legend: "Engine lost: the Docker engine went away" },
  no_load: { mark: "\u2205", words: "No load", legend: "No load: its load counted no request (an error of the run)" },
  fault_late: { mark: "\u00bb", words: "Fault late", legend: "Fault late: a fault landed more than 0.5 s after its time; not a measurement" },
  unknown: { mark: "?", words: "Unknown", legend: "Unknown: a status this page does not know (from a newer labour)" },
};

function kindOf(cell) {
  return KINDS[cell.kind] ? cell.kind : "unknown";
}

function sentLoad(cell) {
  return cell.requests > 0;
}

function pct(text) {
  return text === null ? DASH : text + "%";
}

function when(text) {
  return text ? text.replace("T", " ").replace("Z", " UTC") : DASH;
}

function elapsed(from, to) {
  var start = Date.parse(from || "");
  var end = Date.parse(to || "");
  if (!isFinite(start) || !isFinite(end) || end < start) {
    return null;
  }
  var seconds = Math.round((end - start) / 1000);
  var minutes = Math.floor(seconds / 60);
  var hours = Math.floor(minutes / 60);
  if (hours) {
    return hours + " h " + (minutes % 60) + " min";
  }
  return minutes ? minutes + " min " + (seconds % 60) + " s" : seconds + " s";
}

function verdictWords(cell) {
  return cell.verdict || KINDS[kindOf(cell)].words;
}

// A cell's figures in a few words: f%, innocent f%, deaths, downtime,
// workers, rate, stalls (nothing for a cell that sent no request).
function cellBits(cell) {
  var d = cell.durability;
  var bits = [];
  if (!sentLoad(cell)) {
    return bits;
  }
  bits.push(pct(cell.failurePercent) + " not as expected");
  bits.push("innocent " + pct(cell.innocentPercent));
  if (d.dies) {
    bits.push(d.dies + " death(s)");
  }
  if (d.downtime) {
    bits.push("down " + fmtSecs(d.downtime));
  }
  if (cell.workers.length > 1) {
    bits.push(cell.workers.length + " workers");
  }
  if (cell.requestsPerSec !== null) {
    bits.push(cell.requestsPerSec + " req/s");
  }
  if (cell.client.connectStalls) {
    bits.push(cell.client.connectStalls + " connect stall(s)");
  }
  return bits;
}

// How many cells of each kind, in KINDS' order: [[kind, count]...].
function kindCounts(cells) {
  var counts = {};
  cells.forEach(function (cell) {
    var kind = kindOf(cell);
    counts[kind] = (counts[kind] || 0) + 1;
  });
  return Object.keys(KINDS)
    .filter(function (kind) {
      return counts[kind];
    })
    .map(function (kind) {
      return [kind, counts[kind]];
    });
}

// The title line: the run's state, its size, the cells by kind, and when.
function renderHeader(model) {
  var header = document.getElementById("run");
  var run = model.run;
  var state = run.interrupted ? "interrupted" : run.complete ? "complete" : "incomplete";
  var stateWords = { complete: "Complete", interrupted: "Interrupted", incomplete: "Incomplete" }[state];
  var title = header.querySelector("h1");
  title.appendChild(el("span", { className: "run-state state-" + state, text: stateWords }));
  document.title = "labour report " + (run.runId || "") + " \u2013 " + model.servers.length + " servers \u00d7 " + model.tests.length + " tests";

  var tally = kindCounts(model.cells).map(function (pair) {
    return pair[1] + " " + KINDS[pair[0]].words.toLowerCase();
  });
  var took = elapsed(run.startedAt, run.finishedAt);
  var lede = header.querySelector(".lede");
  lede.textContent = "";
  lede.appendChild(
    el("strong", {
      text: model.servers.length + " server(s) \u00d7 " + model.tests.length + " test(s), " + model.cells.length + " cell(s)" + (tally.length ? ": " + tally.join(", ") : ""),
    })
  );
  lede.appendChild(
    document.createTextNode(
      " \u00b7 seed " + (run.seed || DASH) + " \u00b7 run " + (run.runId || DASH) + " \u00b7 " + when(run.startedAt) + (took ? " (" + took + ")" : "")
    )
  );
  if (run.thresholdFailures.length) {
    header.appendChild(
      el("p", { className: "threshold-note", role: "note" }, [
        el("a", { href: "#setup", text: run.thresholdFailures.length + " threshold failure(s)" }),
        " (listed in the setup)",
      ])
    );
  }
}
