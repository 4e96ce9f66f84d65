// Every executable builds on Runtime (docs/architecture.md, "Layers, and why"), so the vocabulary every command
// needs — commands and options, loggers, metrics, services — comes with it.
@_exported public import ArgumentParser
@_exported public import Logging
@_exported public import Metrics
@_exported public import ServiceLifecycle
