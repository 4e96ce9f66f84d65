public import ArgumentParser

/// How log lines are written to stderr: one JSON object per line, or compact text for people.
public enum LogFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    case json
    case text
}
