from gxmachinery import create_app

app = create_app()
