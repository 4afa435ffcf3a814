// The setup, folded under the matrix: what makes the run reproducible
// (labour, engine, host, containers, seed, thresholds), the servers, and
// the tests, with what every test shares said once and per test only
// what differs (its mix, its faults, the parts of its load not shared).

// A test's load as parts: [[key, words]...], in the order they are said.
function loadParts(load) {
  var parts = [];
  if (load.requests !== null) {
    parts.push(["requests", fmtCount(load.requests) + " requests"]);
  }
  if (load.duration !== null) {
    parts.push(["duration", (load.requests !== null ? "or " : "") + fmtSecs(load.duration, 0)]);
  }
  if (load.concurrency !== null) {
    parts.push(["concurrency", load.concurrency + " connections" + (load.processes !== null ? " over " + load.processes + " processes" : "")]);
  }
  parts.push(["rate", load.rate !== null ? "open loop at " + load.rate + " req/s" : "closed loop"]);
  parts.push(["keepAlive", load.keepAlive ? "keep-alive" : "a new connection per request"]);
  if (load.timeout !== null) {
    parts.push(["timeout", "timeout " + fmtSecs(load.timeout, 0)]);
  }
  if (load.giveUpAfter !== null) {
    parts.push(["giveUpAfter", "give up after " + fmtSecs(load.giveUpAfter, 0)]);
  }
  return parts;
}

// The parts every test says alike (`shared`), and per test the rest.
function splitLoads(tests) {
  var perTest = tests.map(function (test) {
    return loadParts(test.load);
  });
  var shared = perTest.length
    ? perTest[0].filter(function (part) {
        return perTest.every(function (parts) {
          return parts.some(function (other) {
            return other[0] === part[0] && other[1] === part[1];
          });
        });
      })
    : [];
  var sharedKeys = shared.map(function (part) {
    return part[0];
  });
  return {
    shared: shared.map(function (part) {
      return part[1];
    }),
    own: perTest.map(function (parts) {
      return parts
        .filter(function (part) {
          return sharedKeys.indexOf(part[0]) === -1;
        })
        .map(function (part) {
          return part[1];
        });
    }),
  };
}

// The one value every item gives, or null when they differ.
function sameFor(items, value) {
  var values = items.map(value);
  return values.length &&
    values.every(function (one) {
      return one === values[0];
    })
    ? values[0]
    : null;
}

function fact(term, value, title) {
  return [el("dt", { text: term }), el("dd", { text: value === null || value === "" ? DASH : value, title: title })];
}

function factsList(model, loads, policy) {
  var run = model.run;
  var engine = model.engine;
  var limits = model.servers.length ? model.servers[0].limits : null;
  // What the engine settled (network auto, the base images), else what
  // was asked for.
  var baseImage = engine.baseImages.length ? engine.baseImages.join(" / ") : model.container.baseImage;
  var network = engine.network || model.container.network;
  var containerWords = [
    baseImage ? "base " + baseImage : null,
    network ? "network " + network : null,
    limits && limits.restart ? "restart " + limits.restart : null,
    limits && limits.init !== null ? (limits.init ? "init" : "no init") : null,
    limits && limits.memoryBytes !== null ? "memory " + fmtBytes(limits.memoryBytes) : null,
    limits && limits.cpus !== null ? limits.cpus + " CPUs" : null,
    limits && limits.pids !== null ? "pids " + limits.pids : null,
  ].filter(Boolean);
  var thresholds = [
    model.thresholds.maxFailure !== null ? "f% \u2264 " + (model.thresholds.maxFailure * 100).toFixed(2) + "%" : null,
    model.thresholds.maxInnocentFailure !== null ? "innocent f% \u2264 " + (model.thresholds.maxInnocentFailure * 100).toFixed(2) + "%" : null,
  ].filter(Boolean);
  var facts = el("dl", { className: "facts" });
  [
    fact("labour", (run.labourVersion || DASH) + (run.schemaVersion !== null ? " (results schema " + run.schemaVersion + ")" : "")),
    fact(
      "Engine",
      [engine.runtime, engine.version, engine.apiVersion ? "API " + engine.apiVersion : null, engine.endpoint ? "at " + engine.endpoint : null]
        .filter(Boolean)
        .join(" "),
      engine.selection
    ),
    fact(
      "Host",
      [
        engine.host,
        engine.os,
        engine.kernel ? "kernel " + engine.kernel : null,
        engine.cpus !== null ? engine.cpus + " CPUs" : null,
        engine.memoryBytes !== null ? fmtBytes(engine.memoryBytes) : null,
      ]
        .filter(Boolean)
        .join(", ")
    ),
    fact("Client", engine.clientCpus !== null ? engine.clientCpus + " CPUs" : null),
    fact("Containers", containerWords.join(", ")),
    fact("Seed", run.seed),
    fact("Every test's load", loads.shared.length ? loads.shared.join(", ") : "per test, below"),
    policy !== null ? fact("Every test's policy", policy) : [],
    fact("Thresholds", thresholds.length ? thresholds.join(", ") : "none"),
    fact("Run", (run.runId || DASH) + ", " + when(run.startedAt) + " \u2192 " + (run.finishedAt ? when(run.finishedAt) : "not finished")),
  ].forEach(function (pair) {
    pair.forEach(function (node) {
      facts.appendChild(node);
    });
  });
  return facts;
}

function headRow(headings) {
  return el("thead", {}, [
    el(
      "tr",
      {},
      headings.map(function (text) {
        return el("th", { text: text });
      })
    ),
  ]);
}

function serversTable(model) {
  return el("table", { className: "plain" }, [
    headRow(["Server", "Version", "Concurrency", "Settings"]),
    el(
      "tbody",
      {},
      model.servers.map(function (server) {
        var settings = server.settings
          .filter(function (setting) {
            return setting.applied;
          })
          .map(function (setting) {
            return setting.knob + "=" + setting.value;
          });
        return el("tr", {}, [
          el("th", { scope: "row", text: server.name }),
          el("td", { text: server.version || DASH }),
          el("td", { text: server.concurrency.join(" + ") || "one at a time" }),
          el("td", { className: "mono", text: settings.join(" ") || DASH, title: server.command.join(" ") }),
        ]);
      })
    ),
  ]);
}

function testsTable(model, loads, policy) {
  var anyFaults = model.tests.some(function (test) {
    return test.faults.length;
  });
  var anyOwnLoad = loads.own.some(function (own) {
    return own.length;
  });
  var headings = ["Test", "Mix"];
  if (anyFaults) {
    headings.push("Faults");
  }
  if (policy === null) {
    headings.push("Policy");
  }
  if (anyOwnLoad) {
    headings.push(loads.shared.length ? "Its own load" : "Load");
  }
  return el("table", { className: "plain" }, [
    headRow(headings),
    el(
      "tbody",
      {},
      model.tests.map(function (test, index) {
        var mix = test.mix
          .map(function (entry) {
            return entry.weight + " " + entry.behaviour;
          })
          .join(" + ");
        return el("tr", {}, [
          el("th", { scope: "row", text: test.name, title: test.description }),
          el("td", { className: "mono", text: mix || DASH }),
          anyFaults ? el("td", { text: test.faults.join("; ") || DASH }) : null,
          policy === null ? el("td", { text: test.policy || DASH }) : null,
          anyOwnLoad ? el("td", { className: "nowrap", text: loads.own[index].join(", ") || DASH }) : null,
        ]);
      })
    ),
  ]);
}

function renderSetup(model) {
  var section = document.getElementById("setup");
  var engine = model.engine;
  var loads = splitLoads(model.tests);
  var policy = sameFor(model.tests, function (test) {
    return test.policy;
  });
  var summary = [
    "labour " + (model.run.labourVersion || DASH),
    [engine.runtime, engine.version].filter(Boolean).join(" "),
    model.servers.length + " server(s)",
    model.tests.length + " test(s)",
    loads.shared.length ? "every test: " + loads.shared.join(", ") : null,
  ].filter(Boolean);
  var parts = [
    el("summary", {}, [el("strong", { text: "Setup" }), " ", el("span", { className: "quiet", text: summary.join(" \u00b7 ") })]),
  ];
  var inside = [factsList(model, loads, policy)];
  if (model.run.thresholdFailures.length) {
    inside.push(
      el("div", { className: "threshold-failures", role: "note" }, [
        el("h2", { text: "Thresholds failed" }),
        el(
          "ul",
          {},
          model.run.thresholdFailures.map(function (failure) {
            return el("li", { text: failure });
          })
        ),
      ])
    );
  }
  inside.push(el("h2", { text: "Servers" }), serversTable(model), el("h2", { text: "Tests" }), testsTable(model, loads, policy));
  parts.push(el("div", { className: "setup-body" }, inside));
  section.appendChild(el("details", { className: "setup-details", id: "setup-details" }, parts));
}
