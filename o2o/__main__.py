from o2o.cli import app

app(prog_name="o2o")
