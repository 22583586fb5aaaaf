package sdktest_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSuiteCatchesTheOldExample runs the conformance suite against the
// first newsletter example (testdata/oldexample, unchanged), which matched
// subscriptions by e-mail even when they named another customer. The suite
// must fail it on exactly the neighbour cases, and pass everything else.
func TestSuiteCatchesTheOldExample(t *testing.T) {
	out, err := exec.Command("go", "test", "-count=1", "-v", "./testdata/oldexample").CombinedOutput()
	if err == nil {
		t.Fatalf("the conformance suite passed the old example:\n%s", out)
	}
	for _, want := range []string{
		"--- FAIL: TestConformance/NeighbourSharingEmail/Export",
		"--- FAIL: TestConformance/NeighbourSharingEmail/Delete",
		"--- FAIL: TestConformance/NeighbourSharingEmail/Anonymise",
		"--- FAIL: TestConformance/RecordOfAnotherCustomerWithTheSameIdentifiers/Delete",
		"--- PASS: TestConformance/DeleteThenExportIsEmpty",
		"--- PASS: TestConformance/BatchResultsLineUpWithActions",
		"--- PASS: TestConformance/NeighbourSharingPhone",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the suite's output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}
