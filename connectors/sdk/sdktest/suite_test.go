package sdktest_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSuiteCatchesTheOldExamples runs the conformance suite against earlier
// versions of the newsletter example and a planted mistake (testdata/),
// each unchanged but for its comment, and expects it to fail on exactly
// the cases that describe its bug and pass the others:
//   - oldexample matched subscriptions by e-mail even when they named
//     another customer, and exported sign-ups another customer claims;
//   - examplev2 dropped the e-mail of a sign-up matched by it without
//     giving the record another key: the next purge of the same customer,
//     sent as Lethe sends it (without the address Lethe no longer holds),
//     found nothing and answered NOT_FOUND;
//   - blankmatch finds records for a purge by the e-mail a purge blanks.
func TestSuiteCatchesTheOldExamples(t *testing.T) {
	for _, tc := range []struct {
		pkg        string
		fail, pass []string
	}{
		{"./testdata/oldexample", []string{
			"NeighbourSharingEmail/Export", "NeighbourSharingEmail/Delete", "NeighbourSharingEmail/Anonymise",
			"RecordOfAnotherCustomerWithTheSameIdentifiers/Delete",
			"UnlinkedRecords/email/ClaimedByAnotherCustomer/Export", "UnlinkedRecords/email/ClaimedByAnotherCustomer/Delete",
		}, []string{"DeleteThenExportIsEmpty", "BatchResultsLineUpWithActions", "NeighbourSharingPhone", "UnlinkedRecords/email/ExportAndDelete"}},
		{"./testdata/examplev2", []string{"UnlinkedRecords/email/PurgeAsLetheSendsIt"}, []string{
			"NeighbourSharingEmail", "PurgeAsLetheSendsIt", "UnlinkedRecords/email/ExportAndDelete", "UnlinkedRecords/email/ClaimedByAnotherCustomer",
		}},
		{"./testdata/blankmatch", []string{"PurgeAsLetheSendsIt/email", "UnlinkedRecords/email/PurgeAsLetheSendsIt"}, []string{
			"NeighbourSharingEmail", "AnonymiseFields", "UnlinkedRecords/email/ExportAndDelete", "UnlinkedRecords/email/ClaimedByAnotherCustomer",
		}},
	} {
		t.Run(strings.TrimPrefix(tc.pkg, "./testdata/"), func(t *testing.T) {
			out, err := exec.Command("go", "test", "-count=1", "-v", tc.pkg).CombinedOutput()
			if err == nil {
				t.Fatalf("the conformance suite passed %s:\n%s", tc.pkg, out)
			}
			for _, name := range tc.fail {
				if want := "--- FAIL: TestConformance/" + name + " "; !strings.Contains(string(out), want) {
					t.Errorf("the suite's output lacks %q", want)
				}
			}
			for _, name := range tc.pass {
				if want := "--- PASS: TestConformance/" + name + " "; !strings.Contains(string(out), want) {
					t.Errorf("the suite's output lacks %q", want)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}
