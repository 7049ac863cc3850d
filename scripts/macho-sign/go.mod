// Ad-hoc signer and verifier for the darwin release binaries (see main.go, scripts/release.ts).
module kubectl-singlestore.scripts/machosign

go 1.24

require github.com/blacktop/go-macho v1.1.296

require github.com/blacktop/go-dwarf v1.1.0 // indirect
