package logs

import (
	"log/slog"
	"testing"
)

func TestLevelQuietUnlessVerbose(t *testing.T) {
	t.Setenv(EnvVerbose, "")
	if Level() != slog.LevelWarn {
		t.Errorf("Level() = %v without %s, want Warn", Level(), EnvVerbose)
	}
	t.Setenv(EnvVerbose, "1")
	if Level() != slog.LevelDebug {
		t.Errorf("Level() = %v with %s=1, want Debug", Level(), EnvVerbose)
	}
}
