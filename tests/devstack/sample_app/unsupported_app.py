"""An app with a binding the local host does not implement: startup must refuse it."""

import azure.functions as func

app = func.FunctionApp()


@app.blob_trigger(arg_name="blob", path="inbox/{name}", connection="AzureWebJobsStorage")
def on_blob(blob: func.InputStream) -> None:
    pass
