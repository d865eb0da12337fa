//! The one error type of the harness.

use std::path::PathBuf;

/// Everything that can keep a cluster from starting or a node from stopping.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot be written as Kafka properties.
    #[error("invalid harness configuration: {0}")]
    Config(String),
    /// A file or directory of the harness could not be read or written.
    #[error("{what} {}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A tool (`mvn`, `java`, `javac`) could not be started.
    #[error("cannot run {tool} (is it installed and on PATH?)")]
    Tool {
        tool: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// Maven could not resolve the jars of these artifacts (space-separated coordinates).
    #[error("mvn could not resolve {artifact}:\n{output}")]
    Maven { artifact: String, output: String },
    /// `javac` could not compile a Java class (the harness's launcher, or a program of
    /// [`compile_java`](crate::compile_java)).
    #[error("javac failed on {class}:\n{output}")]
    Javac { class: String, output: String },
    /// A node's JVM exited while starting.
    #[error("Kafka node {node} exited during start-up ({status}); the end of its log:\n{log_tail}")]
    Exited { node: i32, status: String, log_tail: String },
    /// A node did not start within [`KafkaConfig::start_timeout`](crate::KafkaConfig::start_timeout).
    #[error("Kafka node {node} did not {what} within {after:?}; the end of its log:\n{log_tail}")]
    StartTimeout { node: i32, what: &'static str, after: std::time::Duration, log_tail: String },
    /// A node answered the ApiVersions check with something other than a success.
    #[error("Kafka node {node} failed the ApiVersions check: {message}")]
    ApiVersions { node: i32, message: String },
    /// There is no node with this id.
    #[error("no node with id {0}")]
    UnknownNode(i32),
}

/// `Result` with the harness's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An [`Error::Io`] for `path`.
pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { what, path, source }
}
