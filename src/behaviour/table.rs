//! The machinery behind the behaviour table: the macro that turns one entry
//! per behaviour into the typed enum, its name, its URL parameters, its
//! parsing from a URL with defaults and ranges, its catalogue entry
//! ([`SPECS`](super::SPECS)) and what counts as expected for it.

use std::fmt;

use super::{BadStatusMode, Outcome};

/// What counts as expected for a behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// HTTP 200.
    Ok,
    /// HTTP 200 with the whole body.
    WholeBody,
    /// HTTP 200 with the upload's length echoed.
    Echo,
    /// The status it asked for, with the body asked for.
    OwnStatus,
    /// HTTP 500: an error the server must turn into an answer.
    ServerError,
    /// The worker dies or never answers: the best a server can do is a 5xx
    /// from a supervisor, or closing the connection when it loses or kills
    /// the worker. Hanging until the client gives up is not.
    Crash,
    /// The headers are out: all a server can do is end the connection so
    /// the client knows the body is incomplete.
    Cut,
}

const CRASH: &str = "HTTP 5xx, or the connection closed without an answer";

impl Expect {
    /// In words, for listings.
    pub const fn words(self) -> &'static str {
        match self {
            Expect::Ok => "HTTP 200",
            Expect::WholeBody => "HTTP 200 with the whole body",
            Expect::Echo => "HTTP 200 with the length echoed",
            Expect::OwnStatus => "that status, with the body asked for",
            Expect::ServerError => "HTTP 500",
            Expect::Crash => CRASH,
            Expect::Cut => "the body cut short (truncated), or the connection closed",
        }
    }

    /// Whether such a behaviour kills or wedges the worker (never sent in
    /// pre-flight).
    pub(crate) const fn destructive(self) -> bool {
        matches!(self, Expect::Crash | Expect::Cut)
    }

    /// Whether `outcome` is as expected, for a behaviour that asked for
    /// `status` (its own, or 200).
    pub(crate) fn accepts(self, outcome: &Outcome, status: u16) -> bool {
        match self {
            Expect::Ok | Expect::WholeBody | Expect::Echo | Expect::OwnStatus => {
                *outcome == Outcome::Status(status)
            }
            Expect::ServerError => *outcome == Outcome::Status(500),
            Expect::Crash => matches!(outcome, Outcome::Status(500..=599) | Outcome::Reset),
            Expect::Cut => matches!(outcome, Outcome::Truncated | Outcome::Reset),
        }
    }
}

/// One parameter of a behaviour, for listings and the agreement test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// Its name in the query string.
    pub name: &'static str,
    /// Its type, in the application's words (`integer`, `seconds`...).
    pub kind: &'static str,
    /// Its default; shown as JSON text (`null` for none).
    pub default: JsonText,
    /// The most it may be, as JSON text; `None` when unbounded.
    pub max: Option<JsonText>,
}

/// A value shown as JSON text, made when shown.
#[derive(Clone, Copy)]
pub struct JsonText(pub fn() -> String);

impl fmt::Display for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&(self.0)())
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonText({self})")
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        (self.0)() == (other.0)()
    }
}

/// The JSON text of `value`.
pub(super) fn json<T: serde::Serialize>(value: T) -> String {
    serde_json::to_string(&value).unwrap_or_else(|_| "null".into())
}

/// One behaviour, for listings, parsing and the agreement test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BehaviourSpec {
    /// Name, as in the URL path.
    pub name: &'static str,
    /// What it does, in one line.
    pub summary: &'static str,
    /// Its parameters.
    pub params: &'static [ParamSpec],
    /// What counts as expected, in words.
    pub expectation: &'static str,
    /// Whether it kills or wedges the worker (never sent in pre-flight).
    pub destructive: bool,
    /// Why a WSGI application cannot do it, for a behaviour only the ASGI
    /// application has; `None`: both have it.
    pub asgi_only: Option<&'static str>,
}

/// A value a behaviour's parameter can take: read from the URL's text,
/// written back into it.
pub(super) trait Param: Sized + PartialEq {
    /// The value `text` stands for, if it is one.
    fn parse_text(text: &str) -> Option<Self>;
    /// The value as the URL writes it; `None` leaves the parameter out.
    fn url(&self) -> Option<String>;
    /// Whether it is at most `max`.
    fn at_most(&self, max: &Self) -> bool;
}

impl Param for u64 {
    fn parse_text(text: &str) -> Option<Self> {
        text.parse().ok()
    }
    fn url(&self) -> Option<String> {
        Some(self.to_string())
    }
    fn at_most(&self, max: &Self) -> bool {
        self <= max
    }
}

impl Param for u16 {
    fn parse_text(text: &str) -> Option<Self> {
        text.parse().ok()
    }
    fn url(&self) -> Option<String> {
        Some(self.to_string())
    }
    fn at_most(&self, max: &Self) -> bool {
        self <= max
    }
}

impl Param for u8 {
    fn parse_text(text: &str) -> Option<Self> {
        text.parse().ok()
    }
    fn url(&self) -> Option<String> {
        Some(self.to_string())
    }
    fn at_most(&self, max: &Self) -> bool {
        self <= max
    }
}

impl Param for f64 {
    fn parse_text(text: &str) -> Option<Self> {
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    }
    fn url(&self) -> Option<String> {
        // Python parses either form; keep integers short ("2", not "2.0").
        Some(if self.fract() == 0.0 && self.abs() < 1e15 {
            format!("{}", *self as i64)
        } else {
            self.to_string()
        })
    }
    fn at_most(&self, max: &Self) -> bool {
        self <= max
    }
}

impl Param for String {
    fn parse_text(text: &str) -> Option<Self> {
        Some(text.to_string())
    }
    fn url(&self) -> Option<String> {
        Some(self.clone())
    }
    fn at_most(&self, _: &Self) -> bool {
        true
    }
}

impl Param for Option<u64> {
    fn parse_text(text: &str) -> Option<Self> {
        match text {
            "null" => Some(None),
            _ => text.parse().ok().map(Some),
        }
    }
    fn url(&self) -> Option<String> {
        self.map(|value| value.to_string())
    }
    fn at_most(&self, max: &Self) -> bool {
        match (self, max) {
            (Some(value), Some(max)) => value <= max,
            _ => true,
        }
    }
}

impl Param for BadStatusMode {
    fn parse_text(text: &str) -> Option<Self> {
        match text {
            "invalid" => Some(BadStatusMode::Invalid),
            "twice" => Some(BadStatusMode::Twice),
            _ => None,
        }
    }
    fn url(&self) -> Option<String> {
        Some(
            match self {
                BadStatusMode::Invalid => "invalid",
                BadStatusMode::Twice => "twice",
            }
            .into(),
        )
    }
    fn at_most(&self, _: &Self) -> bool {
        true
    }
}

/// Declares every behaviour once: its variant and fields, one-line summary,
/// expectation, and each parameter's type, default, kind (in the
/// application's words) and range; optionally the status and length of a
/// correct body, and the bytes it uploads.
macro_rules! behaviours {
    (@max $pty:ty) => { None };
    (@only) => { None };
    (@only $asgi:literal) => { Some($asgi) };
    (@max $pty:ty, $pmax:expr) => { Some(JsonText(|| json::<$pty>(($pmax).into()))) };
    (
        $(
            $(#[doc = $vdoc:literal])*
            $name:ident {
                summary: $summary:literal,
                expect: $expect:ident,
                terse: $terse:literal,
                $(asgi_only: $asgi:literal,)?
                params: {
                    $(
                        $(#[doc = $pdoc:literal])*
                        $pname:ident: $pty:ty = $pdefault:expr, $pkind:literal
                        $(, max $pmax:expr)? $(, check $pcheck:expr)?;
                    )*
                },
                body: $body:expr,
                upload: $upload:expr $(,)?
            }
        )*
    ) => {
        behaviour_enum!(@acc [] $(
            [$(#[doc = $vdoc])*] $name { $($(#[doc = $pdoc])* $pname: $pty,)* }
        )*);

        /// Every behaviour the application has, in listing order.
        pub static SPECS: &[BehaviourSpec] = &[
            $(BehaviourSpec {
                name: stringify!($name),
                summary: $summary,
                params: &[$(ParamSpec {
                    name: stringify!($pname),
                    kind: $pkind,
                    default: JsonText(|| json::<$pty>(($pdefault).into())),
                    max: behaviours!(@max $pty $(, $pmax)?),
                }),*],
                expectation: Expect::$expect.words(),
                destructive: Expect::$expect.destructive(),
                asgi_only: behaviours!(@only $($asgi)?),
            }),*
        ];

        impl Behaviour {
            /// The behaviour's name, as in the URL path.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Behaviour::$name { .. } => stringify!($name),)*
                }
            }

            /// What counts as expected for it.
            pub fn expect(&self) -> Expect {
                match self {
                    $(Behaviour::$name { .. } => Expect::$expect,)*
                }
            }

            /// Parameters in URL order. A terse behaviour (the innocent
            /// request) leaves out those at their defaults, so it reads
            /// `PlainResponse`; the others say all.
            #[allow(unused_variables, unused_mut)]
            pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
                let mut params = Vec::new();
                match self {
                    $(Behaviour::$name { $($pname),* } => {
                        $(
                            let default: $pty = ($pdefault).into();
                            if !($terse && *$pname == default)
                                && let Some(text) = Param::url($pname)
                            {
                                params.push((stringify!($pname), text));
                            }
                        )*
                    })*
                }
                params
            }

            /// The status and body length of a correct answer, where the
            /// length is known in advance.
            #[allow(unused_variables)]
            pub(crate) fn body_check(&self) -> Option<(u16, u64)> {
                match self {
                    $(Behaviour::$name { $($pname),* } => $body,)*
                }
            }

            /// Bytes the request sends as its body (`POST`), if any.
            #[allow(unused_variables)]
            pub(crate) fn upload_len(&self) -> Option<u64> {
                match self {
                    $(Behaviour::$name { $($pname),* } => $upload,)*
                }
            }
        }

        /// The behaviour called `name` with the `given` parameters (by
        /// name, as text), the others at their defaults.
        pub(super) fn build(
            name: &str,
            given: &std::collections::BTreeMap<&str, &str>,
        ) -> Result<Behaviour, String> {
            match name {
                $(stringify!($name) => {
                    $(
                        let $pname: $pty = match given.get(stringify!($pname)) {
                            None => ($pdefault).into(),
                            Some(text) => {
                                let bad = |expected: String| {
                                    format!(
                                        "{}: {}={:?} is not valid: expected {expected}",
                                        stringify!($name),
                                        stringify!($pname),
                                        text
                                    )
                                };
                                let value = <$pty as Param>::parse_text(text)
                                    .ok_or_else(|| bad($pkind.to_string()))?;
                                $(
                                    let max: $pty = ($pmax).into();
                                    if !value.at_most(&max) {
                                        return Err(bad(format!(
                                            "{} up to {}",
                                            $pkind,
                                            max.url().unwrap_or_default()
                                        )));
                                    }
                                )?
                                $(
                                    if !($pcheck)(&value) {
                                        return Err(bad($pkind.to_string()));
                                    }
                                )?
                                value
                            }
                        };
                    )*
                    Ok(Behaviour::$name { $($pname),* })
                })*
                other => Err(format!("no construction for behaviour {other:?}")),
            }
        }
    };
}

/// The enum of [`behaviours!`]: a behaviour without parameters is a unit
/// variant (`Behaviour::SIGSEGV`), the others have their fields.
macro_rules! behaviour_enum {
    (@acc [$($done:tt)*]) => {
        /// One thing a request asks the application to do.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(tag = "name", deny_unknown_fields)]
        pub enum Behaviour {
            $($done)*
        }
    };
    (@acc [$($done:tt)*] [$($doc:tt)*] $name:ident {} $($rest:tt)*) => {
        behaviour_enum!(@acc [$($done)* $($doc)* $name,] $($rest)*);
    };
    (@acc [$($done:tt)*] [$($doc:tt)*] $name:ident { $($fields:tt)+ } $($rest:tt)*) => {
        behaviour_enum!(@acc [$($done)* $($doc)* $name { $($fields)+ },] $($rest)*);
    };
}

pub(super) use {behaviour_enum, behaviours};
