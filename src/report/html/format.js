// Values in words, as the table report writes them, and the one helper
// that builds DOM: text goes in through textContent, never as markup.

var DASH = "\u2013";

function fmtSecs(seconds, digits) {
  return seconds === null || seconds === undefined ? DASH : seconds.toFixed(digits === undefined ? 2 : digits) + " s";
}

function fmtMs(ms) {
  if (ms === null || ms === undefined) {
    return DASH;
  }
  return ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : ms.toFixed(2) + " ms";
}

function fmtBytes(bytes) {
  if (bytes === null || bytes === undefined) {
    return DASH;
  }
  var units = ["B", "KiB", "MiB", "GiB"];
  var value = bytes;
  var unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? bytes + " B" : value.toFixed(1) + " " + units[unit];
}

function fmtCount(count) {
  return count === null || count === undefined ? DASH : count.toLocaleString("en-US");
}

// Linux signal numbers, for exit codes 128 + n and kill events.
var SIGNALS = [
  null, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
  "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
  "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
  "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
];

function signalName(number) {
  return number !== null && number > 0 && number < SIGNALS.length ? SIGNALS[number] : null;
}

// `139 (SIGSEGV)` for a death by signal, `1` otherwise.
function exitCodeText(code) {
  if (code === null || code === undefined) {
    return DASH;
  }
  var signal = code > 128 ? signalName(code - 128) : null;
  return signal ? code + " (" + signal + ")" : String(code);
}

// A kill event's signal: `SIGKILL`, from `9`, `SIGKILL` or `KILL`.
function signalText(signal) {
  if (signal === null || signal === undefined) {
    return null;
  }
  var number = Number(signal);
  if (signal !== "" && isFinite(number)) {
    return signalName(number) || String(signal);
  }
  var upper = String(signal).toUpperCase();
  return upper.indexOf("SIG") === 0 ? upper : "SIG" + upper;
}

// An engine event as the timeline labels it: `die 139 (SIGSEGV)`.
function eventLabel(event) {
  switch (event.action) {
    case "die":
      return event.exitCode === null ? "die" : "die " + exitCodeText(event.exitCode);
    case "kill": {
      var signal = signalText(event.signal);
      return signal ? "kill " + signal : "kill";
    }
    case "start":
      return "restart";
    default:
      return event.action;
  }
}

function faultLabel(fault) {
  return "fault: " + fault.action + (fault.target ? " " + fault.target : "");
}

// An element with attributes and children (elements, or text set as
// textContent). `null` children are skipped.
function el(tag, attributes, children) {
  var element = document.createElement(tag);
  var attrs = attributes || {};
  Object.keys(attrs).forEach(function (name) {
    var value = attrs[name];
    if (value === null || value === undefined || value === false) {
      return;
    }
    if (name === "text") {
      element.textContent = String(value);
    } else if (name === "className") {
      element.className = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  });
  (children || []).forEach(function (child) {
    if (child === null || child === undefined) {
      return;
    }
    element.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  });
  return element;
}
