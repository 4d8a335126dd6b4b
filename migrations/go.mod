module github.com/portcullis/portcullis/migrations

go 1.26
