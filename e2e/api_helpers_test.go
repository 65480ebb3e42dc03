package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/mediapackagev2"

	"github.com/rewind-origin/rewind/e2e/testtool"
)

// apiRegion is the region every API test signs for.
const apiRegion = "us-east-1"

// requireBoto3 skips (fails in CI) when python3 cannot import boto3.
func requireBoto3(t *testing.T) {
	t.Helper()
	requireTools(t, "python3")
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		testtool.Missing(t, "python3 boto3", err)
	}
}

// awsEnv is an environment for the AWS CLI and boto3 that reads no
// configuration from outside the test.
func awsEnv(t *testing.T, key, secret string) []string {
	t.Helper()
	home := t.TempDir()
	env := []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=" + key,
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_DEFAULT_REGION=" + apiRegion,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_PAGER=",
	}
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION", "PYTHONPATH", "VIRTUAL_ENV", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

var cliErrorRE = regexp.MustCompile(`An error occurred \((\w+)\)`)

// awsCLI runs `aws mediapackagev2 args... --endpoint-url` and returns the
// decoded JSON output, or the exception code the CLI reported.
func awsCLI(t *testing.T, rw *rewind, env []string, args ...string) (map[string]any, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"mediapackagev2"}, args...)
	full = append(full, "--endpoint-url", rw.url(""), "--output", "json")
	cmd := exec.CommandContext(ctx, "aws", full...)
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		if m := cliErrorRE.FindStringSubmatch(stderr.String()); m != nil {
			return nil, m[1]
		}
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	out := map[string]any{}
	if s := strings.TrimSpace(stdout.String()); s != "" {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, s)
		}
	}
	return out, ""
}

// mustCLI is awsCLI for a call that must succeed.
func mustCLI(t *testing.T, rw *rewind, env []string, args ...string) map[string]any {
	t.Helper()
	out, code := awsCLI(t, rw, env, args...)
	if code != "" {
		t.Fatalf("aws %s: %s", strings.Join(args, " "), code)
	}
	return out
}

// python runs a script of testdata/api with args and returns its output.
func python(t *testing.T, env []string, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", append([]string{filepath.Join("testdata", "api", script)}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 %s: %v\n%s", script, err, out)
	}
	return string(out)
}

// sdkClient returns a Go SDK client for rw signing with key/secret.
func sdkClient(t *testing.T, rw *rewind, key, secret string) *mediapackagev2.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(apiRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key, secret, "")),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatal(err)
	}
	return mediapackagev2.NewFromConfig(cfg, func(o *mediapackagev2.Options) {
		o.BaseEndpoint = aws.String(rw.url(""))
	})
}

// asError asserts err is an *E and returns it.
func asError[E error](t *testing.T, what string, err error) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %T %v, want %T", what, err, err, e)
	}
	return e
}
