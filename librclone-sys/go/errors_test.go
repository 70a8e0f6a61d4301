package main

import "testing"

func TestOneLineFoldsTheAzureSDKsFramedErrors(t *testing.T) {
	framed := "HEAD http://127.0.0.1:1/acct/c/p\n" +
		"--------------------------------------------------------------------------------\n" +
		"RESPONSE 403: 403 Server failed to authenticate the request.\n" +
		"ERROR CODE: AuthorizationFailure\n" +
		"--------------------------------------------------------------------------------\n" +
		"Response contained no body\n" +
		"--------------------------------------------------------------------------------\n"
	want := "HEAD http://127.0.0.1:1/acct/c/p; RESPONSE 403: 403 Server failed to authenticate the request.; ERROR CODE: AuthorizationFailure"
	if got := oneLine(framed); got != want {
		t.Fatalf("oneLine:\n got %q\nwant %q", got, want)
	}
	if got := oneLine("plain: no newline"); got != "plain: no newline" {
		t.Fatalf("a one-line message changed: %q", got)
	}
}
