import Runtime

await DocketMain.run(GatewayCommand.self)
