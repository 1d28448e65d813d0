//go:build integration

package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/objstore"
)

// The integration tier: real Apache Kafka 4.x, and the artifacts in a real
// S3 server (versitygw, platform/s3/s3.sh) through minio-go.

// realObjects returns the S3 settings `platform/s3/s3.sh env` exported. With
// S3_IT set the server must be there.
func realObjects(t *testing.T) objstore.Config {
	t.Helper()
	if os.Getenv("S3_IT") == "" {
		t.Skip("S3_IT is not set: run under `make test-integration`, or eval \"$(platform/s3/s3.sh env)\"")
	}
	var c objstore.Config
	if err := envconfig.Process("", &c); err != nil {
		t.Fatal(err)
	}
	if c.Endpoint == "" {
		t.Fatal("S3_IT is set but MINIO_ENDPOINT is empty")
	}
	c.Bucket = fmt.Sprintf("gnn-e2e-%d", time.Now().UnixNano())
	c.ArtifactDir = t.TempDir()
	return c
}

func TestRealBTCUSDTMonthToS3(t *testing.T) {
	testBTCUSDTMonth(t, newRig(t, bustest.Real(t, false), realObjects(t)))
}

func TestRealSixAssetsToS3(t *testing.T) {
	testSixAssets(t, newRig(t, bustest.Real(t, false), realObjects(t)))
}
