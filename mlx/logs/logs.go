// Package logs sets up the project's logger: the log/slog default logger, quiet unless asked.
//
// Warnings and errors always show; Info and Debug records show only when the environment
// variable DLEXP_VERBOSE is set to 1 (or "true"). Notebooks stay clean by default.
package logs

import (
	"log/slog"
	"os"
	"strings"
	"sync"
)

// EnvVerbose is the environment variable that, when set to 1, shows Info and Debug records.
const EnvVerbose = "DLEXP_VERBOSE"

var setupOnce sync.Once

// Verbose reports whether DLEXP_VERBOSE asks for Info and Debug records.
func Verbose() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(EnvVerbose)))
	return v == "1" || v == "true" || v == "yes"
}

// Level returns the lowest level shown: slog.LevelDebug when verbose, slog.LevelWarn otherwise.
func Level() slog.Level {
	if Verbose() {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// Setup installs, once per process, a text handler on standard error at Level as the slog
// default logger. Later calls do nothing, so every package may call it.
func Setup() {
	setupOnce.Do(func() {
		h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: Level()})
		slog.SetDefault(slog.New(h))
	})
}
